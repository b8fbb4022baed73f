import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashMap, PerCpuHashMap, LruHashMap, LruPerCpuHashMap, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST, BPF_F_LOCK, BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, BPF_F_RDONLY_PROG, checkMapSpec } from '../src/maps/index.js';
import { spec, ctx, make, u32, u64, readU32, readU64, place } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;

test('hash: flags ANY/NOEXIST/EXIST, E2BIG when full, ENOENT on delete, replace works when full', () => {
  for (const flags of [0, BPF_F_NO_PREALLOC]) {
    const m = make<HashMap>(spec('hash', 4, 8, 3, flags));
    m.set(1, 10n);
    assert.throws(() => m.set(1, 11n, BPF_NOEXIST), E('EEXIST'));
    assert.throws(() => m.set(2, 11n, BPF_EXIST), E('ENOENT'));
    m.set(1, 12n, BPF_EXIST);
    m.set(2, 20n, BPF_NOEXIST);
    m.set(3, 30n);
    assert.throws(() => m.set(4, 40n), E('E2BIG'));
    m.set(3, 31n); // replacing in a full map succeeds
    assert.equal(m.size, 3);
    assert.equal(readU64(m.get(1)!), 12n);
    assert.equal(readU64(m.get(3)!), 31n);
    assert.equal(m.get(4), undefined);
    assert.equal(m.has(2), true);
    m.delete(2);
    assert.throws(() => m.delete(2), E('ENOENT'));
    m.set(4, 40n);
    assert.throws(() => m.set(5, 1n, 4 | 0), E('EINVAL'));
    assert.throws(() => m.set(5, 1n, BPF_F_LOCK), E('EINVAL'));
    assert.throws(() => m.set(new Uint8Array(3), 1n), E('EINVAL'));
    assert.equal(new Set([...m.keys()].map(readU32)).size, 3);
  }
});

test('hash: get-next-key visits every key once; a missing key restarts at the first', () => {
  const m = make<HashMap>(spec('hash', 4, 4, 64));
  for (let i = 0; i < 40; i++) m.set(i * 7, i);
  const seen: number[] = [];
  let k = m.nextKey();
  while (k) {
    seen.push(readU32(k));
    k = m.nextKey(k);
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i * 7));
  assert.deepEqual(m.nextKey(1), m.nextKey());
  m.delete(seen[0]!);
  assert.deepEqual(readU32(m.nextKey()!), seen[1]);
  const empty = make<HashMap>(spec('hash', 4, 4, 4));
  assert.equal(empty.nextKey(), undefined);
  assert.equal(empty.nextKey(3), undefined);
});

test('hash: program side — lookup address, update/delete return codes, RDONLY_PROG', () => {
  const m = make<HashMap>(spec('hash', 8, 8, 2));
  const k = place(m, u64(5));
  const v = place(m, u64(55));
  assert.equal(m.lookupElem(k, 0), 0);
  assert.equal(m.updateElem(k, v, BPF_EXIST, 0), -2);
  assert.equal(m.updateElem(k, v, BPF_ANY, 0), 0);
  assert.equal(m.updateElem(k, v, BPF_NOEXIST, 0), -17);
  const a = m.lookupElem(k, 0);
  assert.notEqual(a, 0);
  assert.equal(m.space.readU64(a), 55n);
  m.space.writeU64(a, 56n);
  assert.equal(readU64(m.get(5)!), 56n);
  assert.equal(m.updateElem(place(m, u64(6)), v, BPF_ANY, 0), 0);
  assert.equal(m.updateElem(place(m, u64(7)), v, BPF_ANY, 0), -7);
  assert.equal(m.updateElem(k, v, 8, 0), -22);
  assert.equal(m.deleteElem(k), 0);
  assert.equal(m.deleteElem(k), -2);
  const ro = make<HashMap>(spec('hash', 8, 8, 2, BPF_F_RDONLY_PROG));
  assert.equal(ro.updateElem(k, v, BPF_ANY, 0), -1);
  ro.set(5, 1n);
  assert.equal(ro.deleteElem(k), -1);
});

test('hash: program updates with a value pointer into the map itself', () => {
  const m = make<HashMap>(spec('hash', 4, 8, 4));
  m.set(1, 77n);
  const v = m.lookupElem(place(m, u32(1)), 0);
  assert.equal(m.updateElem(place(m, u32(2)), v, BPF_ANY, 0), 0);
  assert.equal(readU64(m.get(2)!), 77n);
});

test("hash: NO_PREALLOC elements come from the map's own cache: deletes recycle them, close frees them", () => {
  const c = ctx();
  const m = make<HashMap>(spec('hash', 4, 64, 100, BPF_F_NO_PREALLOC), c);
  const cache = (m.table_ as unknown as { cache: { bytes: number; owns(a: number): boolean; slabs: number[] } }).cache;
  assert.equal(cache.bytes, 0, 'nothing is allocated before the first insert');
  for (let i = 0; i < 100; i++) m.set(i, new Uint8Array(64).fill(i));
  const a = m.lookupElem(place(m, u32(50)), 0);
  assert.ok(cache.owns(a), 'the element lives in the map cache');
  const held = cache.bytes;
  assert.ok(held >= 100 * 72 && held <= 2 * 100 * 72 + 16384, `cache holds ${held} bytes`);
  for (let i = 0; i < 100; i++) m.delete(i);
  assert.equal(m.size, 0);
  // No run in flight: the freed elements are reusable at once, and only by this map.
  for (let i = 0; i < 100; i++) m.set(i + 1000, new Uint8Array(64));
  assert.equal(cache.bytes, held, 'reinserting reuses the freed elements');
  const slabs = [...cache.slabs];
  assert.ok(slabs.length > 0);
  m.close();
  assert.equal(cache.bytes, 0, 'close frees the slabs');
  for (const s of slabs) assert.equal(c.space.sizeOf(s), undefined, 'every slab is back in the address space');
});

test('hash: batch — bucket cursor, ENOSPC when a bucket does not fit, lookup_and_delete', () => {
  const m = make<HashMap>(spec('hash', 4, 4, 16));
  for (let i = 0; i < 12; i++) m.set(i, i * 10);
  const got = new Map<number, number>();
  let cursor: Uint8Array | undefined;
  let done = false;
  let calls = 0;
  while (!done) {
    let r;
    try {
      r = m.lookupBatch(3, cursor);
    } catch (e) {
      // a bucket larger than the count: the kernel says ENOSPC; retry with more room
      assert.ok(E('ENOSPC')(e));
      r = m.lookupBatch(16, cursor);
    }
    r.keys.forEach((k, i) => got.set(readU32(k), readU32(r.values[i]!)));
    cursor = r.cursor;
    done = r.done;
    assert.ok(++calls < 40);
  }
  assert.equal(got.size, 12);
  for (const [k, v] of got) assert.equal(v, k * 10);
  assert.throws(() => m.lookupBatch(1, u32(16)), E('ENOENT'));
  assert.throws(() => m.lookupBatch(1, undefined, 1), E('EINVAL'));
  const r = m.lookupAndDeleteBatch(100);
  assert.equal(r.keys.length, 12);
  assert.equal(r.done, true);
  assert.equal(m.size, 0);
  assert.equal(m.updateBatch([1, 2], [u32(1), u32(2)]), 2);
  assert.throws(() => m.updateBatch([3, 2], [u32(1), u32(2)], BPF_NOEXIST), E('EINVAL'));
  assert.throws(() => m.updateBatch([3, 4], [u32(1), new Uint8Array(2)]), (e: unknown) => E('EINVAL')(e) && (e as MapError).count === 1);
  m.delete(3);
  assert.throws(() => m.deleteBatch([1, 9, 2]), (e: unknown) => E('ENOENT')(e) && (e as MapError).count === 1);
  assert.equal(m.has(1), false);
  assert.equal(m.has(2), true);
});

test('hash: batch ENOSPC when the first bucket holds more than count', () => {
  const m = make<HashMap>(spec('hash', 4, 4, 2));
  // with 2 buckets, 2 keys in one bucket is certain for some pair: find one
  for (let a = 0; a < 50; a++) {
    m.set(a, 1);
    m.set(a + 1000, 1);
    const t = m.table_;
    if (t.bucketOf(t.find(u32(a), 0)) === t.bucketOf(t.find(u32(a + 1000), 0))) {
      assert.throws(() => m.lookupBatch(1, u32(t.bucketOf(t.find(u32(a), 0)))), E('ENOSPC'));
      return;
    }
    m.delete(a);
    m.delete(a + 1000);
  }
  assert.fail('no colliding pair found');
});

test('percpu_hash: per-CPU values; a new element from a program is zero on other CPUs', () => {
  const m = make<PerCpuHashMap>(spec('percpu_hash', 4, 4, 4), ctx(3));
  m.set(1, [u32(1), u32(2), u32(3)]);
  assert.deepEqual(m.get(1)!.map(readU32), [1, 2, 3]);
  const k = place(m, u32(2));
  assert.equal(m.updateElem(k, place(m, u32(9)), BPF_ANY, 1), 0);
  assert.deepEqual(m.get(2)!.map(readU32), [0, 9, 0]);
  assert.equal(m.space.readU32(m.lookupElem(k, 1)), 9);
  assert.equal(m.space.readU32(m.lookupElem(place(m, u32(1)), 2)), 3);
  assert.deepEqual(readU32(m.getView(1, 1)!), 2);
  const r = m.lookupBatch(10);
  assert.equal(r.values.length, 2);
  assert.equal(r.values[0]!.length, 3);
});

test('lru_hash: evicts the least recently used when full; program lookups count as use, host lookups do not', () => {
  const m = make<LruHashMap>(spec('lru_hash', 4, 4, 4));
  for (let i = 0; i < 4; i++) m.set(i, i);
  // program touches key 0: key 1 is now the oldest
  assert.notEqual(m.lookupElem(place(m, u32(0)), 0), 0);
  m.get(1); // host lookup: no effect on recency
  m.set(4, 4);
  assert.equal(m.has(1), false);
  assert.equal(m.has(0), true);
  assert.equal(m.size, 4);
  // updates count as use
  m.set(2, 22);
  m.set(5, 5);
  assert.equal(m.has(3), false);
  assert.equal(m.has(2), true);
  assert.throws(() => m.set(5, 1, BPF_NOEXIST), E('EEXIST'));
  // never E2BIG
  for (let i = 100; i < 200; i++) m.set(i, i);
  assert.equal(m.size, 4);
  assert.deepEqual([...m.keys()].map(readU32).sort((a, b) => a - b), [196, 197, 198, 199]);
  // program-side inserts evict as well
  assert.equal(m.updateElem(place(m, u32(7)), place(m, u32(7)), BPF_ANY, 0), 0);
  assert.equal(m.has(196), false);
});

test('lru_hash: creation rules (NO_PREALLOC is ENOTSUPP; NO_COMMON_LRU rounds max_entries to the CPU count)', () => {
  assert.throws(() => checkMapSpec(spec('lru_hash', 4, 4, 4, BPF_F_NO_PREALLOC)), E('ENOTSUPP'));
  assert.throws(() => checkMapSpec(spec('hash', 4, 4, 4, BPF_F_NO_COMMON_LRU)), E('EINVAL'));
  const m = make<LruHashMap>(spec('lru_hash', 4, 4, 5, BPF_F_NO_COMMON_LRU), ctx(4));
  assert.equal(m.maxEntries, 8);
  const p = make<LruPerCpuHashMap>(spec('lru_percpu_hash', 4, 4, 2), ctx(2));
  p.set(1, [u32(1), u32(2)]);
  p.set(2, 2);
  p.set(3, 3);
  assert.equal(p.has(1), false);
  assert.deepEqual(p.get(3)!.map(readU32), [3, 3]);
});

test('hash: frozen maps refuse host writes and deletes, programs may still write', () => {
  const m = make<HashMap>(spec('hash', 4, 4, 4));
  m.set(1, 1);
  m.freeze();
  assert.throws(() => m.set(1, 2), E('EPERM'));
  assert.throws(() => m.delete(1), E('EPERM'));
  assert.throws(() => m.lookupAndDelete(1), E('EPERM'));
  assert.equal(m.updateElem(place(m, u32(2)), place(m, u32(2)), BPF_ANY, 0), 0);
  assert.equal(readU32(m.get(2)!), 2);
});

test('hash: NO_PREALLOC tables grow with the elements; huge max_entries cost nothing up front', () => {
  const m = make<HashMap>(spec('hash', 4, 4, 5000, BPF_F_NO_PREALLOC));
  for (let i = 0; i < 3000; i++) m.set(i, i);
  for (let i = 0; i < 3000; i += 2) m.delete(i);
  for (let i = 3000; i < 4500; i++) m.set(i, i);
  assert.equal(m.size, 3000);
  for (let i = 1; i < 3000; i += 2) assert.equal(readU32(m.get(i)!), i);
  for (let i = 3000; i < 4500; i++) assert.equal(readU32(m.get(i)!), i);
  assert.equal([...m.keys()].length, 3000);
  for (let i = 4500; i < 6500; i++) m.set(i, i);
  assert.equal(m.size, 5000);
  assert.throws(() => m.set(99999, 1), E('E2BIG'));
  const big = make<HashMap>(spec('hash', 4, 4, 1 << 27, BPF_F_NO_PREALLOC));
  big.set(123456789, 1);
  assert.equal(readU32(big.get(123456789)!), 1);
  big.close();
  assert.throws(() => checkMapSpec(spec('hash', 4, 4, (1 << 27) + 1, BPF_F_NO_PREALLOC)), E('E2BIG'));
});
