import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayMap, PerCpuArrayMap, MapError, BPF_ANY, BPF_EXIST, BPF_NOEXIST, BPF_F_LOCK, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, checkMapSpec } from '../src/maps/index.js';
import { spec, ctx, make, u32, u64, readU32, readU64, place, errnoOf } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;

test('array: creation checks follow array_map_alloc_check', () => {
  assert.throws(() => checkMapSpec(spec('array', 8, 8, 4)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('array', 4, 0, 4)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('array', 4, 8, 0)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('array', 4, 8, 4, 1 /* NO_PREALLOC */)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('percpu_array', 4, 32769, 4)), E('E2BIG'));
  assert.throws(() => checkMapSpec(spec('array', 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY)), E('EINVAL'));
  assert.throws(() => checkMapSpec(spec('array', 4, 8, 4, 0, { mapExtra: 1n })), E('EINVAL'));
  checkMapSpec(spec('array', 4, 8, 4, 1 << 10 /* MMAPABLE */));
});

test('array: every index exists, zeroed; values contiguous at elem_size stride', () => {
  const m = make<ArrayMap>(spec('array', 4, 12, 5));
  assert.equal(m.elemSize, 16);
  for (let i = 0; i < 5; i++) assert.deepEqual(m.get(i), new Uint8Array(12));
  assert.equal(m.get(5), undefined);
  m.set(3, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  assert.deepEqual(Array.from(m.space.bytes(m.valuesAddr + 3 * 16, 12)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // the descriptor records the values area for the JIT
  assert.equal(m.space.readU32(m.addr + 24), m.valuesAddr);
  assert.equal(m.space.readU32(m.addr + 28), 16);
  assert.equal(m.space.readU32(m.addr), 2);
});

test('array: update flags and errors as array_map_update_elem', () => {
  const m = make<ArrayMap>(spec('array', 4, 8, 4));
  m.set(0, 7n, BPF_EXIST);
  m.set(1, 8n, BPF_ANY);
  assert.throws(() => m.set(2, 1n, BPF_NOEXIST), E('EEXIST'));
  assert.throws(() => m.set(4, 1n), E('E2BIG'));
  assert.throws(() => m.set(0, 1n, 3), E('EINVAL'));
  assert.throws(() => m.set(0, 1n, BPF_F_LOCK), E('EINVAL'));
  assert.throws(() => m.set(0, new Uint8Array(4)), E('EINVAL'));
  assert.throws(() => m.set(new Uint8Array(8), 1n), E('EINVAL'));
  assert.throws(() => m.delete(0), E('EINVAL'));
  assert.equal(readU64(m.get(0)!), 7n);
  assert.equal(readU64(m.get(1)!), 8n);
});

test('array: get-next-key is index+1, 0 for a missing key, ENOENT at the end', () => {
  const m = make<ArrayMap>(spec('array', 4, 4, 3));
  assert.deepEqual(m.nextKey(), u32(0));
  assert.deepEqual(m.nextKey(0), u32(1));
  assert.deepEqual(m.nextKey(1), u32(2));
  assert.equal(m.nextKey(2), undefined);
  assert.deepEqual(m.nextKey(99), u32(0));
  assert.deepEqual([...m.keys()].map(readU32), [0, 1, 2]);
  assert.equal([...m.entries()].length, 3);
});

test('array: program side returns real addresses; the host sees program writes without a copy', () => {
  const m = make<ArrayMap>(spec('array', 4, 8, 4));
  const k = place(m, u32(2));
  const v = m.ops.lookupElem(k, 0);
  assert.equal(v, m.valuesAddr + 16);
  m.space.writeU64(v, 0x1122334455n);
  assert.equal(readU64(m.getView(2)!), 0x1122334455n);
  assert.equal(m.ops.lookupElem(place(m, u32(4)), 0), 0);
  const val = place(m, u64(99));
  assert.equal(m.ops.updateElem(k, val, BPF_ANY, 0), 0);
  assert.equal(readU64(m.get(2)!), 99n);
  assert.equal(m.ops.updateElem(k, val, BPF_NOEXIST, 0), -17);
  assert.equal(m.ops.updateElem(place(m, u32(9)), val, BPF_ANY, 0), -7);
  assert.equal(m.ops.updateElem(k, val, 3, 0), -22);
  assert.equal(m.ops.deleteElem(k), -22);
});

test('array: frozen and read-only maps refuse host writes with EPERM; programs still write frozen maps', () => {
  const m = make<ArrayMap>(spec('array', 4, 8, 2));
  m.set(0, 1n);
  m.freeze();
  assert.throws(() => m.set(0, 2n), E('EPERM'));
  assert.throws(() => m.freeze(), E('EPERM'));
  assert.equal(m.ops.updateElem(place(m, u32(0)), place(m, u64(5)), BPF_ANY, 0), 0);
  assert.equal(readU64(m.get(0)!), 5n);
  const ro = make<ArrayMap>(spec('array', 4, 8, 2, BPF_F_RDONLY));
  assert.throws(() => ro.set(0, 2n), E('EPERM'));
  assert.deepEqual(ro.get(0), new Uint8Array(8));
  const wo = make<ArrayMap>(spec('array', 4, 8, 2, BPF_F_WRONLY));
  assert.throws(() => wo.get(0), E('EPERM'));
  const rop = make<ArrayMap>(spec('array', 4, 8, 2, BPF_F_RDONLY_PROG));
  rop.set(1, 3n);
  assert.equal(rop.updateElem(place(rop, u32(1)), place(rop, u64(5)), BPF_ANY, 0), -1);
  assert.equal(readU64(rop.get(1)!), 3n);
});

test('percpu_array: one slot per CPU; the program sees its CPU; host gets arrays', () => {
  const c = ctx(4);
  const m = make<PerCpuArrayMap>(spec('percpu_array', 4, 4, 3), c);
  assert.equal(m.perCpu, true);
  m.set(1, [u32(10), u32(11), u32(12), u32(13)]);
  const k = place(m, u32(1));
  for (let cpu = 0; cpu < 4; cpu++) assert.equal(m.space.readU32(m.ops.lookupElem(k, cpu)), 10 + cpu);
  m.space.writeU32(m.ops.lookupElem(k, 2), 99);
  assert.deepEqual(m.get(1)!.map(readU32), [10, 11, 99, 13]);
  assert.equal(m.ops.updateElem(k, place(m, u32(7)), BPF_ANY, 3), 0);
  assert.deepEqual(m.get(1)!.map(readU32), [10, 11, 99, 7]);
  m.set(0, 5);
  assert.deepEqual(m.get(0)!.map(readU32), [5, 5, 5, 5]);
  assert.throws(() => m.set(0, [u32(1)]), E('EINVAL'));
  assert.equal(errnoOf((() => { try { m.delete(0); } catch (e) { return e; } })()), 'EINVAL');
});

test('array: generic batch lookup walks next-key with the last key as cursor; update batch stops at the first error', () => {
  const m = make<ArrayMap>(spec('array', 4, 4, 5));
  assert.equal(m.updateBatch([0, 1, 2], [u32(1), u32(2), u32(3)]), 3);
  let r = m.lookupBatch(2);
  assert.deepEqual(r.keys.map(readU32), [0, 1]);
  assert.deepEqual(r.cursor, u32(1));
  assert.equal(r.done, false);
  r = m.lookupBatch(2, r.cursor);
  assert.deepEqual(r.keys.map(readU32), [2, 3]);
  r = m.lookupBatch(2, r.cursor);
  assert.deepEqual(r.keys.map(readU32), [4]);
  assert.equal(r.done, true);
  assert.throws(() => m.updateBatch([3, 9, 4], [u32(1), u32(1), u32(1)]), (e: unknown) => e instanceof MapError && e.errno === 'E2BIG' && e.count === 1);
  assert.equal(readU32(m.get(3)!), 1);
  assert.throws(() => m.deleteBatch([0]), E('ENOTSUPP'));
  assert.throws(() => m.updateBatch([0], [u32(1)], 1 /* BPF_NOEXIST: elem_flags take only BPF_F_LOCK */), E('EINVAL'));
  assert.throws(() => m.lookupAndDeleteBatch(1), E('ENOTSUPP'));
});

test('array: close frees the storage and the id', () => {
  const c = ctx();
  const m = make<ArrayMap>(spec('array', 4, 8, 1000), c);
  assert.equal(c.table!.byAddr(m.addr), m);
  assert.equal(c.table!.byId(m.id), m);
  m.close();
  assert.equal(c.table!.byId(m.id), undefined);
  assert.throws(() => m.get(0), E('EBADF'));
  assert.equal(c.space.sizeOf(m.valuesAddr), undefined);
});
