import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgArray, PerfEventArray, ArrayOfMaps, HashOfMaps, ArrayMap, HashMap, MapError, BPF_ANY, BPF_NOEXIST, BPF_F_CURRENT_CPU, BPF_F_INNER_MAP, checkMapSpec, type ProgramRef } from '../src/maps/index.js';
import { spec, ctx, make, u32, readU32, place } from './maps-support.js';

const E = (e: string) => (err: unknown) => err instanceof MapError && err.errno === e;

test('prog_array: host sets program ids; only BPF_ANY; type must agree; tail-call slots', () => {
  const progs = new Map<number, ProgramRef>([
    [10, { id: 10, type: 'xdp' }],
    [11, { id: 11, type: 'xdp' }],
    [12, { id: 12, type: 'kprobe' }],
  ]);
  const c = ctx(1, { programs: { byId: (id) => progs.get(id) } });
  const pa = make<ProgArray>(spec('prog_array', 4, 4, 4), c);
  pa.set(0, 10);
  pa.set(2, 11);
  assert.throws(() => pa.set(1, 12), E('EINVAL'));
  assert.throws(() => pa.set(1, 99), E('EBADF'));
  assert.throws(() => pa.set(1, 10, BPF_NOEXIST), E('EINVAL'));
  assert.throws(() => pa.set(4, 10), E('E2BIG'));
  assert.equal(pa.getProgram(0)?.id, 10);
  assert.equal(pa.getProgram(1), undefined);
  assert.equal(pa.getProgram(99), undefined);
  assert.equal(readU32(pa.get(2)!), 11);
  assert.equal(pa.get(1), undefined);
  assert.equal(pa.space.readU32(pa.slotsAddr + 8), 11);
  pa.delete(2);
  assert.throws(() => pa.delete(2), E('ENOENT'));
  assert.equal(pa.space.readU32(pa.slotsAddr + 8), 0);
  assert.deepEqual(readU32(pa.nextKey(0)!), 1);
  assert.equal(pa.ops.lookupElem(place(pa, u32(0)), 0), 0, 'programs cannot look up a prog_array');
  assert.throws(() => checkMapSpec(spec('prog_array', 4, 8, 4)), E('EINVAL'));
});

test('perf_event_array: records per slot, CURRENT_CPU, lost counts, errors', () => {
  const pe = make<PerfEventArray>(spec('perf_event_array', 4, 4, 2), ctx(2));
  const d = place(pe, new Uint8Array([1, 2, 3]));
  assert.equal(pe.output(0n, d, 3, 0), -2, 'no buffer open: ENOENT');
  pe.openAll(64);
  assert.equal(pe.output(BPF_F_CURRENT_CPU, d, 3, 1), 0);
  assert.equal(pe.output(0n, d, 2, 1), 0);
  assert.equal(pe.output(5n, d, 3, 0), -7);
  assert.equal(pe.output(1n << 32n, d, 3, 0), -22);
  // 64-byte buffer: records take 16 bytes (8 header + 4 size + 3 data, rounded to 8)
  for (let i = 0; i < 5; i++) pe.output(0n, d, 3, 0);
  const { records, lost } = pe.read();
  assert.equal(lost, 2);
  assert.deepEqual(records.filter((r) => r.cpu === 1).map((r) => Array.from(r.data)), [[1, 2, 3]]);
  assert.equal(records.filter((r) => r.cpu === 0).length, 4);
  assert.deepEqual(Array.from(records[0]!.data), [1, 2]);
  assert.throws(() => pe.get(0), E('ENOTSUPP'));
  pe.delete(1);
  assert.throws(() => pe.delete(1), E('ENOENT'));
});

test('array_of_maps: inner maps by id; template match; program lookup yields the inner map pointer', () => {
  const c = ctx();
  const inner = spec('array', 4, 8, 4);
  const outer = make<ArrayOfMaps>({ ...spec('array_of_maps', 4, 4, 3), innerMap: inner }, c);
  const a = make<ArrayMap>(inner, c);
  const wrongSize = make<ArrayMap>(spec('array', 4, 8, 5), c);
  const wrongType = make<HashMap>(spec('hash', 4, 8, 4), c);
  outer.set(0, a.id);
  assert.throws(() => outer.set(1, wrongSize.id), E('EINVAL'));
  assert.throws(() => outer.set(1, wrongType.id), E('EINVAL'));
  assert.throws(() => outer.set(1, 12345), E('EBADF'));
  assert.throws(() => outer.set(1, a.id, BPF_NOEXIST), E('EINVAL'));
  assert.throws(() => outer.set(1, outer.id), E('EINVAL'));
  assert.equal(readU32(outer.get(0)!), a.id);
  const p = outer.lookupElem(place(outer, u32(0)), 0);
  assert.equal(p, a.addr);
  assert.equal(c.table!.byAddr(p), a);
  assert.equal(outer.lookupElem(place(outer, u32(1)), 0), 0);
  assert.equal(outer.space.readU32(outer.valuesAddr), a.addr);
  // the slot keeps the inner map alive after its handle is closed
  a.close();
  assert.equal(c.table!.byAddr(p), a);
  assert.equal(a.isReleased, false);
  outer.delete(0);
  assert.equal(a.isReleased, true);
  assert.equal(c.table!.byAddr(p), undefined);
  // BPF_F_INNER_MAP lets array inner maps differ in max_entries
  const flex = spec('array', 4, 8, 4, BPF_F_INNER_MAP);
  const o2 = make<ArrayOfMaps>({ ...spec('array_of_maps', 4, 4, 1), innerMap: flex }, c);
  o2.set(0, make<ArrayMap>(spec('array', 4, 8, 100, BPF_F_INNER_MAP), c).id);
  assert.throws(() => checkMapSpec(spec('array_of_maps', 4, 4, 1)), E('EINVAL'));
  assert.throws(() => checkMapSpec({ ...spec('array_of_maps', 4, 4, 1), innerMap: spec('prog_array', 4, 4, 1) }), E('ENOTSUPP'));
});

test('hash_of_maps: hash semantics for keys, inner maps as values', () => {
  const c = ctx();
  const inner = spec('hash', 4, 4, 8);
  const outer = make<HashOfMaps>({ ...spec('hash_of_maps', 8, 4, 2), innerMap: inner }, c);
  const h1 = make<HashMap>(inner, c);
  const h2 = make<HashMap>(inner, c);
  h1.set(1, 100);
  outer.set(7n, h1.id);
  outer.set(8n, h2.id, BPF_ANY);
  assert.throws(() => outer.set(9n, h2.id), E('E2BIG'));
  assert.throws(() => outer.set(7n, h2.id, BPF_NOEXIST), E('EEXIST'));
  const ptr = outer.lookupElem(place(outer, new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0])), 0);
  const m = c.table!.byAddr(ptr) as HashMap;
  assert.equal(m, h1);
  assert.equal(readU32(m.get(1)!), 100);
  assert.equal(readU32(outer.get(8n)!), h2.id);
  assert.equal(outer.inner(8n), h2);
  h2.close();
  outer.set(8n, h1.id);
  assert.equal(h2.isReleased, true);
  outer.delete(7n);
  assert.throws(() => outer.delete(7n), E('ENOENT'));
  assert.equal([...outer.keys()].length, 1);
});
