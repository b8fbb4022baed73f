import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/object/btf/btf.js';
import type { BtfType } from '../src/object/btf/types.js';
import { TypedMap } from '../src/maps/typed.js';
import { MapError } from '../src/maps/index.js';
import { spec, ctx, make } from './maps-support.js';

const types = [
  { id: 1, kind: 'int', name: 'unsigned int', size: 4, bits: 32, offset: 0, encoding: { signed: false, char: false, bool: false } },
  { id: 2, kind: 'int', name: 'long long', size: 8, bits: 64, offset: 0, encoding: { signed: true, char: false, bool: false } },
  { id: 3, kind: 'int', name: 'char', size: 1, bits: 8, offset: 0, encoding: { signed: true, char: false, bool: false } },
  { id: 4, kind: 'array', name: '', elemTypeId: 3, indexTypeId: 1, nelems: 8 },
  {
    id: 5,
    kind: 'struct',
    name: 'stats',
    size: 24,
    kindFlag: false,
    members: [
      { name: 'packets', typeId: 2, bitOffset: 0, bitfieldSize: 0 },
      { name: 'bytes', typeId: 2, bitOffset: 64, bitfieldSize: 0 },
      { name: 'comm', typeId: 4, bitOffset: 128, bitfieldSize: 0 },
    ],
  },
] as unknown as BtfType[];

test('typed map: BTF struct values and int keys round-trip through the host API', () => {
  const btf = Btf.fromTypes(types);
  const m = make(spec('hash', 4, 24, 8, 0, { btfKeyTypeId: 1, btfValueTypeId: 5 }));
  const t = new TypedMap(m, btf);
  t.set(7, { packets: 3n, bytes: 1500n, comm: 'curl' });
  assert.deepEqual(t.get(7), { packets: 3n, bytes: 1500n, comm: 'curl' });
  assert.equal(t.get(8), undefined);
  assert.deepEqual([...t.keys()], [7]);
  // the bytes underneath are the C layout
  const raw = m.get(7) as Uint8Array;
  assert.equal(new DataView(raw.buffer).getBigInt64(8, true), 1500n);
  assert.throws(() => t.set(1, { packets: 1n }));
  t.delete(7);
  assert.equal(t.has(7), false);
  assert.throws(() => new TypedMap(make(spec('hash', 8, 24, 8, 0, { btfKeyTypeId: 1, btfValueTypeId: 5 })), btf), (e: unknown) => e instanceof MapError && e.errno === 'EINVAL');
});

test('typed map: per-CPU values decode to one object per CPU', () => {
  const btf = Btf.fromTypes(types);
  const m = make(spec('percpu_array', 4, 8, 2, 0, { btfKeyTypeId: 1, btfValueTypeId: 2 }), ctx(2));
  const t = new TypedMap(m, btf);
  t.set(1, [5n, -6n]);
  assert.deepEqual(t.get(1), [5n, -6n]);
  t.set(0, 9n);
  assert.deepEqual(t.get(0), [9n, 9n]);
});
