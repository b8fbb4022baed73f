/**
 * Checked execution polices every access by region: every value pointer a
 * program can get from a map must lie in a registered map_value region
 * (writable unless BPF_F_RDONLY_PROG), and regions of freed values must go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpmTrie, BPF_ANY, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, type BpfMap } from '../src/maps/index.js';
import { spec, ctx, make, place, u32 } from './maps-support.js';

function valueRegion(m: BpfMap<unknown>, addr: number) {
  return m.space.regionOf(addr, m.valueSize);
}

test('regions: array, per-CPU array and hash values (preallocated or not) are in map_value regions', () => {
  for (const s of [spec('array', 4, 12, 4), spec('hash', 4, 12, 4), spec('hash', 4, 12, 4, BPF_F_NO_PREALLOC), spec('percpu_hash', 4, 12, 4, BPF_F_NO_PREALLOC), spec('percpu_array', 4, 12, 4), spec('lru_hash', 4, 12, 4)]) {
    const m = make<BpfMap<unknown>>(s, ctx(2));
    const k = place(m, u32(1));
    if (s.type.includes('hash')) assert.equal(m.ops.updateElem(k, place(m, new Uint8Array(12)), BPF_ANY, 0), 0);
    for (const cpu of [0, 1]) {
      const a = m.ops.lookupElem(k, cpu);
      assert.notEqual(a, 0);
      const r = valueRegion(m, a);
      assert.ok(r, `${s.type} flags ${s.flags}: value outside any region`);
      assert.equal(r.kind, 'map_value');
      assert.equal(r.writable, true);
    }
    if (s.flags & BPF_F_NO_PREALLOC) {
      const a = m.ops.lookupElem(k, 0);
      assert.equal(m.ops.deleteElem(k, 0), 0);
      assert.equal(valueRegion(m, a)?.kind === 'map_value' && valueRegion(m, a)?.base === a, false, 'freed value keeps its region');
    }
    m.close();
  }
});

test('regions: BPF_F_RDONLY_PROG values are read-only regions; lpm values have regions that go with the prefix', () => {
  const ro = make<BpfMap<unknown>>(spec('array', 4, 8, 2, BPF_F_RDONLY_PROG));
  assert.equal(valueRegion(ro, ro.ops.lookupElem(place(ro, u32(0)), 0))?.writable, false);
  const l = make<LpmTrie>(spec('lpm_trie', 8, 4, 4, BPF_F_NO_PREALLOC));
  l.set(LpmTrie.key(8, [10, 0, 0, 0]), 1);
  const a = l.ops.lookupElem(place(l, LpmTrie.key(32, [10, 1, 1, 1])), 0);
  assert.equal(valueRegion(l, a)?.base, a);
  l.delete(LpmTrie.key(8, [10, 0, 0, 0]));
  assert.notEqual(valueRegion(l, a)?.base, a);
});
