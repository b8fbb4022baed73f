import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpmTrie, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST, checkMapSpec } from '../src/maps/index.js';
import { spec, make, readU32, place, u32 } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;
const K = (len: number, ...d: number[]): Uint8Array => LpmTrie.key(len, [...d, 0, 0, 0, 0].slice(0, 4));
const ipv4 = () => make<LpmTrie>(spec('lpm_trie', 8, 4, 16, 1));

test('lpm_trie: creation needs BPF_F_NO_PREALLOC and a prefixlen + data key', () => {
  assert.throws(() => checkMapSpec(spec('lpm_trie', 8, 4, 4, 0)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('lpm_trie', 4, 4, 4, 1)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('lpm_trie', 261, 4, 4, 1)), E('EINVAL'));
  checkMapSpec(spec('lpm_trie', 260, 4, 4, 1));
});

test('lpm_trie: lookup finds the longest matching prefix; update/delete are exact', () => {
  const m = ipv4();
  m.set(K(8, 10), 8);
  m.set(K(16, 10, 1), 16);
  m.set(K(24, 10, 1, 2), 24);
  m.set(K(0), 0);
  assert.equal(readU32(m.get(K(32, 10, 1, 2, 3))!), 24);
  assert.equal(readU32(m.get(K(32, 10, 1, 3, 3))!), 16);
  assert.equal(readU32(m.get(K(32, 10, 9, 9, 9))!), 8);
  assert.equal(readU32(m.get(K(32, 11, 0, 0, 0))!), 0);
  // the key's own prefixlen bounds the match
  assert.equal(readU32(m.get(K(20, 10, 1, 2, 3))!), 16);
  assert.equal(m.get(K(33, 10, 1, 2, 3)), undefined);
  assert.throws(() => m.delete(K(12, 10)), E('ENOENT'));
  m.delete(K(16, 10, 1));
  assert.equal(readU32(m.get(K(32, 10, 1, 3, 3))!), 8);
  assert.throws(() => m.set(K(8, 10), 1, BPF_NOEXIST), E('EEXIST'));
  assert.throws(() => m.set(K(9, 10), 1, BPF_EXIST), E('ENOENT'));
  assert.throws(() => m.set(K(33, 10), 1), E('EINVAL'));
  assert.throws(() => m.delete(K(33, 10)), E('EINVAL'));
  m.set(K(8, 10), 88, BPF_EXIST);
  assert.equal(readU32(m.get(K(32, 10, 0, 0, 1))!), 88);
});

test('lpm_trie: a full trie is ENOSPC; replacing and intermediate nodes do not count', () => {
  const m = make<LpmTrie>(spec('lpm_trie', 8, 4, 2, 1));
  m.set(K(24, 10, 0, 0), 1);
  m.set(K(24, 10, 0, 128), 2); // creates an intermediate node
  assert.equal(m.size, 2);
  assert.throws(() => m.set(K(24, 10, 0, 64), 3), E('ENOSPC'));
  m.set(K(24, 10, 0, 0), 5, BPF_ANY);
  m.delete(K(24, 10, 0, 0));
  m.set(K(17, 10, 0, 0), 6);
  assert.equal(m.size, 2);
});

test('lpm_trie: get-next-key walks in postorder (children before parents), a missing key restarts', () => {
  const m = ipv4();
  const ins = [K(8, 10), K(16, 10, 1), K(24, 10, 1, 2), K(32, 10, 1, 2, 3), K(16, 10, 128), K(0)];
  for (const k of ins) m.set(k, 1);
  const order: string[] = [];
  for (let k = m.nextKey(); k; k = m.nextKey(k)) order.push(`${readU32(k)}:${Array.from(k.subarray(4)).join('.')}`);
  assert.deepEqual(order, ['32:10.1.2.3', '24:10.1.2.0', '16:10.1.0.0', '16:10.128.0.0', '8:10.0.0.0', '0:0.0.0.0']);
  assert.deepEqual(m.nextKey(K(12, 99)), m.nextKey());
});

test('lpm_trie: program side uses the same key layout', () => {
  const m = ipv4();
  m.set(K(16, 192, 168), 7);
  const a = m.ops.lookupElem(place(m, K(32, 192, 168, 4, 4)), 0);
  assert.equal(m.space.readU32(a), 7);
  assert.equal(m.ops.lookupElem(place(m, K(32, 192, 169, 4, 4)), 0), 0);
  assert.equal(m.ops.updateElem(place(m, K(24, 192, 168, 4)), place(m, u32(24)), BPF_ANY, 0), 0);
  assert.equal(m.space.readU32(m.ops.lookupElem(place(m, K(32, 192, 168, 4, 4)), 0)), 24);
  assert.equal(m.ops.deleteElem(place(m, K(24, 192, 168, 4)), 0), 0);
  assert.equal(m.ops.deleteElem(place(m, K(24, 192, 168, 4)), 0), -2);
});

test('lpm_trie: random inserts and deletes agree with a brute-force longest match', () => {
  const m = make<LpmTrie>(spec('lpm_trie', 6, 4, 200, 1));
  const ref = new Map<string, number>();
  let x = 12345;
  const r = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const keyStr = (len: number, d: number): string => `${len}/${len === 0 ? 0 : (d >>> (16 - len)) << (16 - len)}`;
  for (let i = 0; i < 600; i++) {
    const len = r(17);
    const d = r(65536);
    const k = LpmTrie.key(len, [d >> 8, d & 0xff]);
    if (r(3) === 0) {
      const had = [...ref.keys()].find((s) => s === keyStr(len, d));
      // exact delete must match prefix bits only
      try {
        m.delete(k);
        assert.ok(had, 'delete succeeded for a missing prefix');
        ref.delete(had!);
      } catch (e) {
        assert.ok(!had && E('ENOENT')(e));
      }
    } else if (ref.size < 200 || ref.has(keyStr(len, d))) {
      m.set(k, i);
      ref.set(keyStr(len, d), i);
    }
    const q = r(65536);
    let best = -1;
    let bestVal: number | undefined;
    for (const [s, v] of ref) {
      const [l, p] = s.split('/').map(Number) as [number, number];
      if (l > best && (l === 0 || q >>> (16 - l) === p >>> (16 - l))) {
        best = l;
        bestVal = v;
      }
    }
    const got = m.get(LpmTrie.key(16, [q >> 8, q & 0xff]));
    assert.equal(got === undefined ? undefined : readU32(got), bestVal, `query ${q}`);
  }
  assert.equal(m.size, ref.size);
  assert.equal([...m.keys()].length, ref.size);
});
