import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinMap, openPinnedMap, PinFileError } from '../src/maps/pin.js';
import { MapError, LpmTrie, BPF_F_RDONLY, type BpfMap, type HashMap, type PerCpuHashMap, type QueueMap, type BloomFilter, type RingBuf } from '../src/maps/index.js';
import { spec, ctx, make, readU32, u32 } from './maps-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pin-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const dump = (m: BpfMap<unknown>) => [...m.entries()].map(([k, v]) => [Array.from(k), Array.isArray(v) ? v.map((x) => Array.from(x as Uint8Array)) : Array.from(v as Uint8Array)]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

test('pin: hash, array, lpm and per-CPU maps reopen with every entry; frozen state kept', () => {
  const c = ctx(3);
  const h = make<HashMap>(spec('hash', 4, 8, 100), c);
  for (let i = 0; i < 60; i++) h.set(i, BigInt(i) * 1000n);
  h.freeze();
  const a = make<BpfMap<Uint8Array>>(spec('array', 4, 4, 10, BPF_F_RDONLY), c);
  a.withHostAccess(() => a.set(3, 33));
  const l = make<LpmTrie>(spec('lpm_trie', 8, 4, 10, 1), c);
  l.set(LpmTrie.key(8, [10, 0, 0, 0]), 8);
  l.set(LpmTrie.key(24, [10, 1, 2, 0]), 24);
  const p = make<PerCpuHashMap>(spec('percpu_hash', 4, 4, 4), c);
  p.set(1, [u32(1), u32(2), u32(3)]);
  for (const [name, m] of [['h', h], ['a', a], ['l', l], ['p', p]] as const) {
    pinMap(m, join(dir, name));
    const c2 = ctx(3);
    const r = openPinnedMap(join(dir, name), c2);
    assert.equal(r.type, m.type);
    assert.equal(r.frozen, m.frozen);
    r.withHostAccess(() => assert.deepEqual(dump(r), m.withHostAccess(() => dump(m))));
  }
  const r = openPinnedMap(join(dir, 'h'), ctx());
  assert.throws(() => (r as HashMap).set(1, 1n), (e: unknown) => e instanceof MapError && e.errno === 'EPERM');
  const rl = openPinnedMap(join(dir, 'l'), ctx()) as LpmTrie;
  assert.equal(readU32(rl.get(LpmTrie.key(32, [10, 1, 2, 3]))!), 24);
  assert.throws(() => openPinnedMap(join(dir, 'p'), ctx(4)), (e: unknown) => e instanceof MapError && e.errno === 'EINVAL');
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary files left');
});

test('pin: queue order and bloom bits survive; ring buffers reopen empty', () => {
  const q = make<QueueMap>(spec('queue', 0, 4, 4));
  [5, 6, 7].forEach((v) => q.push(v));
  q.pop();
  pinMap(q, join(dir, 'q'));
  const rq = openPinnedMap(join(dir, 'q'), ctx()) as QueueMap;
  assert.deepEqual(rq.contents().map(readU32), [6, 7]);
  const b = make<BloomFilter>(spec('bloom_filter', 0, 4, 100, 0, { mapExtra: 3n }));
  for (let i = 0; i < 50; i++) b.push(i);
  pinMap(b, join(dir, 'b'));
  const rb = openPinnedMap(join(dir, 'b'), ctx()) as BloomFilter;
  for (let i = 0; i < 50; i++) assert.equal(rb.mayContain(i), true);
  const ring = make<RingBuf>(spec('ringbuf', 0, 0, 4096));
  ring.write(new Uint8Array(8));
  pinMap(ring, join(dir, 'r'));
  const rr = openPinnedMap(join(dir, 'r'), ctx()) as RingBuf;
  assert.equal(rr.query(0), 0n);
  assert.equal(rr.ringSize, 4096);
});

test('pin: re-pinning replaces atomically; exclusive pins refuse an existing file', () => {
  const h = make<HashMap>(spec('hash', 4, 4, 4));
  h.set(1, 1);
  pinMap(h, join(dir, 'x'));
  h.set(2, 2);
  pinMap(h, join(dir, 'x'));
  assert.equal((openPinnedMap(join(dir, 'x'), ctx()) as HashMap).size, 2);
  assert.throws(() => pinMap(h, join(dir, 'x'), { exclusive: true }), (e: unknown) => e instanceof MapError && e.errno === 'EEXIST');
});

test('pin: corrupted, truncated or foreign files are PinFileError, missing files ENOENT', () => {
  const h = make<HashMap>(spec('hash', 4, 4, 4));
  h.set(1, 1);
  pinMap(h, join(dir, 'c'));
  const good = readFileSync(join(dir, 'c'));
  const flip = Uint8Array.from(good);
  flip[flip.length - 7]! ^= 0x40;
  writeFileSync(join(dir, 'c1'), flip);
  writeFileSync(join(dir, 'c2'), good.subarray(0, good.length - 3));
  writeFileSync(join(dir, 'c3'), 'hello, not a map');
  writeFileSync(join(dir, 'c4'), new Uint8Array(0));
  for (const f of ['c1', 'c2', 'c3', 'c4']) assert.throws(() => openPinnedMap(join(dir, f), ctx()), (e: unknown) => e instanceof PinFileError && e.errno === 'EINVAL', f);
  assert.throws(() => openPinnedMap(join(dir, 'nope'), ctx()), (e: unknown) => e instanceof PinFileError && e.errno === 'ENOENT');
});
