/**
 * The map-value layouts the cpumask selftests rely on (object/btf/map-fields.ts): kptrs inside
 * arrays of structs are repeated per element (btf_find_nested_struct / btf_repeat_fields), and a
 * value with more special fields than BTF_FIELDS_MAX (11) has none, as Linux's btf_parse_fields
 * fails with -E2BIG and map_check_btf keeps no record. The kfuncs' verdicts are corpus cases
 * (test/verifier-corpus/kfuncs-cpumask.txt, kfuncs-cast.txt).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapValueFields } from '../src/object/btf/map-fields.js';
import { Btf } from '../src/object/btf/btf.js';
import type { BtfType } from '../src/object/btf/types.js';

/** struct obj; struct pair { obj __kptr *a; long pad; }; struct val { int x; struct pair p[N]; }; a DATASEC holding `struct pair g[M]` at 16. */
function btfWith(n: number, m: number): Btf {
  const types = [
    { id: 1, kind: 'struct', name: 'obj', size: 8, kindFlag: false, members: [] },
    { id: 2, kind: 'type_tag', name: 'kptr', typeId: 1 },
    { id: 3, kind: 'ptr', name: '', typeId: 2 },
    { id: 4, kind: 'int', name: 'long', size: 8, encoding: { signed: true, char: false, bool: false }, bits: 64, offset: 0 },
    { id: 5, kind: 'struct', name: 'pair', size: 16, kindFlag: false, members: [
      { name: 'a', typeId: 3, bitOffset: 0, bitfieldSize: 0 },
      { name: 'pad', typeId: 4, bitOffset: 64, bitfieldSize: 0 },
    ] },
    { id: 6, kind: 'array', name: '', elemTypeId: 5, indexTypeId: 4, nelems: n },
    { id: 7, kind: 'struct', name: 'val', size: 8 + 16 * n, kindFlag: false, members: [
      { name: 'x', typeId: 4, bitOffset: 0, bitfieldSize: 0 },
      { name: 'p', typeId: 6, bitOffset: 64, bitfieldSize: 0 },
    ] },
    { id: 8, kind: 'array', name: '', elemTypeId: 5, indexTypeId: 4, nelems: m },
    { id: 9, kind: 'var', name: 'g', typeId: 8, linkage: 'static' },
    { id: 10, kind: 'datasec', name: '.bss.MASK', size: 16 + 16 * m, vars: [{ typeId: 9, offset: 16, size: 16 * m }] },
  ] as BtfType[];
  return Btf.fromTypes(types);
}

test('an array of structs repeats the kptrs of its element, in a map value and in global data', () => {
  const btf = btfWith(3, 2);
  assert.deepEqual(mapValueFields(btf, 7)?.kptrs?.map(({ off, struct }) => [off, struct]), [[8, 'obj'], [24, 'obj'], [40, 'obj']]);
  assert.deepEqual(mapValueFields(btf, 10)?.kptrs?.map(({ off }) => off), [16, 32]);
});

test('more than BTF_FIELDS_MAX special fields leave the value with none (-E2BIG)', () => {
  assert.equal(mapValueFields(btfWith(11, 1), 7)?.kptrs?.length, 11);
  assert.equal(mapValueFields(btfWith(12, 1), 7), undefined);
  assert.equal(mapValueFields(btfWith(1, 12), 10), undefined);
});
