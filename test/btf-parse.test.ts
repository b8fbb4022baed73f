import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Btf, BtfError, loadBtfFile, type BtfType, type BtfTypeOf } from '../src/object/btf/index.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const kinds = (): Btf => loadBtfFile(new Uint8Array(readFileSync(`${FIX}/kinds.o`)));
const get = <K extends BtfType['kind']>(btf: Btf, name: string, kind: K): BtfTypeOf<K> => {
  const t = btf.typeByName(name, kind);
  assert.ok(t, `${kind} ${name} not found`);
  return t as BtfTypeOf<K>;
};

test('the kinds fixture holds every BTF kind clang emits, with their fields', () => {
  const btf = kinds();
  const seen = new Set(btf.types.map((t) => t.kind));
  for (const k of ['int', 'ptr', 'array', 'struct', 'union', 'enum', 'enum64', 'fwd', 'typedef', 'volatile', 'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag'])
    assert.ok(seen.has(k as BtfType['kind']), `missing kind ${k}`);
  assert.deepEqual(btf.types[0], { id: 0, kind: 'void', name: '' });
  btf.types.forEach((t, i) => assert.equal(t.id, i));

  const int = get(btf, 'int', 'int');
  assert.deepEqual([int.size, int.bits, int.offset, int.encoding.signed], [4, 32, 0, true]);
  assert.equal(get(btf, '_Bool', 'int').encoding.bool, true);

  const flags = get(btf, 'flags', 'struct');
  assert.equal(flags.size, 16);
  assert.deepEqual(
    flags.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
    [['a', 0, 3], ['b', 3, 5], ['c', 8, 7], ['d', 15, 40], ['e', 56, 0], ['name', 64, 0]],
  );
  const both = get(btf, 'both', 'union');
  assert.equal(both.members[2]!.name, '');
  assert.equal(btf.typeById(both.members[2]!.typeId).kind, 'struct');

  const neg = get(btf, 'neg', 'enum');
  assert.equal(neg.signed, true);
  assert.deepEqual(neg.values, [{ name: 'NEG_A', value: -3 }, { name: 'NEG_B', value: 7 }]);
  const big = get(btf, 'big64', 'enum64');
  assert.deepEqual(big.values.map((v) => v.value), [1n, 0xffffffff00000000n]);
  assert.deepEqual(get(btf, 'sbig64', 'enum64').values.map((v) => v.value), [-1n, 0x100000000n]);
  assert.equal(get(btf, 'opaque_u', 'fwd').union, true);
  assert.equal(get(btf, 'opaque', 'fwd').union, false);
  assert.equal(get(btf, 'helper', 'func').linkage, 'static');
  assert.equal(get(btf, 'kinds_prog', 'func').linkage, 'global');
  const proto = btf.typeById(get(btf, 'helper', 'func').typeId);
  assert.equal(proto.kind, 'func_proto');
  assert.deepEqual(proto.kind === 'func_proto' && proto.params.map((p) => p.name), ['x', 'v']);
  assert.equal(get(btf, 'rodata_limit', 'var').linkage, 'static');
  const maps = get(btf, '.maps', 'datasec');
  assert.deepEqual(maps.vars.map((v) => btf.nameOf(v.typeId)), ['values', 'packed', 'mixed']);
  const tags = btf.types.filter((t) => t.kind === 'decl_tag');
  assert.deepEqual(
    tags.map((t) => t.kind === 'decl_tag' && [t.name, btf.nameOf(t.typeId), t.componentIdx]),
    [['flags_tag', 'flags', -1], ['param_tag', 'helper', 0], ['func_tag', 'helper', -1], ['counter_tag', 'global_counter', -1]],
  );
  assert.equal(get(btf, 'user', 'type_tag').typeId, int.id);
  assert.equal(get(btf, 'float', 'float').size, 4);
});

test('resolve, sizeof and alignof follow libbpf', () => {
  const btf = kinds();
  const u32 = get(btf, 'u32', 'typedef');
  assert.equal(btf.resolve(u32.id), get(btf, 'unsigned int', 'int').id);
  const value = get(btf, 'value', 'struct');
  const cv = value.members.find((m) => m.name === 'cv')!;
  assert.equal(btf.typeById(cv.typeId).kind, 'const');
  assert.equal(btf.resolve(cv.typeId), get(btf, 'int', 'int').id);
  assert.equal(btf.sizeof(value.id), 136);
  assert.equal(btf.alignof(value.id), 8);
  const matrix = value.members.find((m) => m.name === 'matrix')!;
  assert.equal(btf.sizeof(matrix.typeId), 24);
  assert.equal(btf.alignof(matrix.typeId), 4);
  assert.equal(btf.sizeof(value.members.find((m) => m.name === 'op')!.typeId), 8);
  const packed = get(btf, 'packed_s', 'struct');
  assert.equal(btf.sizeof(packed.id), 5);
  assert.equal(btf.alignof(packed.id), 1, 'a packed struct aligns to 1');
  assert.equal(btf.sizeof(get(btf, 'global_counter', 'var').id), 4);
  assert.throws(() => btf.sizeof(get(btf, 'helper', 'func').id), BtfError);
  assert.throws(() => btf.typeById(99999), (e: unknown) => e instanceof BtfError && e.errno === 'ENOENT');
  assert.equal(btf.typeByName('no_such_type'), undefined);
  assert.equal(btf.typeByName('flags', 'union'), undefined);
});

test('encode writes BTF that parses back to the same types, in both byte orders', () => {
  const btf = kinds();
  for (const endian of ['le', 'be'] as const) {
    const again = Btf.parse(btf.encode(endian), 'le');
    assert.equal(again.endian, endian, 'byte order is detected from the magic');
    assert.deepEqual(again.types, btf.types);
  }
});

test('big-endian objects parse to the same types as little-endian ones', () => {
  const le = kinds();
  const be = loadBtfFile(new Uint8Array(readFileSync(`${FIX}/kinds.be.o`)));
  assert.equal(be.endian, 'be');
  assert.deepEqual(be.types, le.types);
});

test('the kernel BTF parses, if present', { skip: !existsSync('/sys/kernel/btf/vmlinux') && 'no /sys/kernel/btf/vmlinux' }, () => {
  const vm = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
  assert.ok(vm.types.length > 10000);
  const task = vm.typeByName('task_struct', 'struct')!;
  assert.ok(vm.sizeof(task.id) > 1000);
  assert.ok(vm.alignof(task.id) >= 8);
});

/** A minimal valid blob to corrupt: header + one int + strings. */
function tinyBlob(): Uint8Array {
  return Btf.fromTypes([{ id: 1, kind: 'int', name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } }]).encode('le');
}

function rejects(bytes: Uint8Array, offset: number, reason: RegExp): void {
  assert.throws(
    () => Btf.parse(bytes),
    (e: unknown) => {
      assert.ok(e instanceof BtfError, `expected BtfError, got ${String(e)}`);
      assert.ok(e instanceof TsbpfError);
      assert.equal(e.offset, offset, `offset for ${e.message}`);
      assert.match(e.reason, reason);
      return true;
    },
  );
}

test('corrupted headers and sections are typed errors with the offset and reason', () => {
  const good = tinyBlob();
  assert.equal(Btf.parse(good).types.length, 2);
  const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mut = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(b);
    return b;
  };
  rejects(good.subarray(0, 10), 0, /truncated header/);
  rejects(mut((b) => (b[0] = 0)), 0, /bad magic/);
  rejects(mut((b) => (b[2] = 2)), 2, /unsupported version 2/);
  rejects(mut((b) => (b[3] = 1)), 3, /unsupported flags/);
  rejects(mut((b) => dv(b).setUint32(4, 8, true)), 4, /header length 8/);
  rejects(mut((b) => dv(b).setUint32(4, 9999, true)), 4, /exceeds the blob/);
  rejects(mut((b) => dv(b).setUint32(8, 2, true)), 8, /not 4-byte aligned/);
  rejects(mut((b) => dv(b).setUint32(12, 9999, true)), 12, /type section/);
  rejects(mut((b) => dv(b).setUint32(20, 9999, true)), 20, /string section/);
  // the type's info word: kind 31 does not exist
  rejects(mut((b) => (b[24 + 7] = 0x1f)), 28, /unknown kind 31/);
  // name offset beyond the strings
  rejects(mut((b) => dv(b).setUint32(24, 5000, true)), 24, /name offset 5000/);
  // int size 3
  rejects(mut((b) => dv(b).setUint32(32, 3, true)), 32, /invalid size 3/);
  // truncated type section: cut the int's extra word
  rejects(mut((b) => dv(b).setUint32(12, 14, true)), 36, /truncated int data/);
});

test('type references must exist; cycles are errors, not hangs', () => {
  // [1] ptr -> [2] const -> [1] : a loop through qualifiers
  const loop = Btf.fromTypes([
    { id: 1, kind: 'typedef', name: 'a', typeId: 2 },
    { id: 2, kind: 'typedef', name: 'b', typeId: 1 },
  ]);
  const blob = loop.encode();
  const parsed = Btf.parse(blob);
  assert.throws(() => parsed.resolve(1), (e: unknown) => e instanceof BtfError && e.errno === 'ELOOP' && e.offset === 24);
  assert.throws(() => parsed.sizeof(1), (e: unknown) => e instanceof BtfError && e.errno === 'ELOOP');
  assert.throws(() => parsed.alignof(1), (e: unknown) => e instanceof BtfError);
  // a struct containing itself by value
  const self = Btf.fromTypes([
    { id: 1, kind: 'struct', name: 's', size: 8, kindFlag: false, members: [{ name: 'x', typeId: 2, bitOffset: 0, bitfieldSize: 0 }] },
    { id: 2, kind: 'array', name: '', elemTypeId: 1, indexTypeId: 1, nelems: 1 },
  ]);
  assert.throws(() => self.alignof(1), (e: unknown) => e instanceof BtfError && e.errno === 'ELOOP');
  assert.throws(
    () => Btf.fromTypes([{ id: 1, kind: 'ptr', name: '', typeId: 7 }]),
    (e: unknown) => e instanceof BtfError && /missing type 7/.test(e.message),
  );
  assert.throws(
    () => Btf.fromTypes([{ id: 1, kind: 'func', name: 'f', typeId: 0, linkage: 'global' }]),
    (e: unknown) => e instanceof BtfError && /prototype refers to void/.test(e.message),
  );
});

test('split BTF (module BTF on top of a base) numbers its types after the base', () => {
  const base = kinds();
  // header + one PTR to base type 2 named by a split string, + the split string section
  const strs = new Uint8Array([0, ...new TextEncoder().encode('pint'), 0]);
  const blob = new Uint8Array(24 + 12 + strs.length);
  const dv = new DataView(blob.buffer);
  dv.setUint16(0, 0xeb9f, true);
  blob[2] = 1;
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, 12, true);
  dv.setUint32(16, 12, true);
  dv.setUint32(20, strs.length, true);
  dv.setUint32(24, base.strings.length + 1, true); // name 'pint' in the split strings
  dv.setUint32(28, 8 << 24, true); // typedef
  dv.setUint32(32, 2, true); // -> base type 2 (int)
  blob.set(strs, 36);
  const split = Btf.parse(blob, 'le', { base });
  const id = base.types.length;
  assert.equal(split.types.length, id + 1);
  assert.deepEqual(split.typeById(id), { id, kind: 'typedef', name: 'pint', typeId: 2 });
  assert.equal(split.sizeof(id), 4);
  assert.equal(split.typeByName('flags', 'struct')!.id, base.typeByName('flags', 'struct')!.id);
  // encode writes only the split part; it parses back on the same base
  assert.deepEqual(Btf.parse(split.encode(), 'le', { base }).types, split.types);
  // without its base, the reference to type 2 and the name are out of range
  assert.throws(() => Btf.parse(blob), BtfError);
});
