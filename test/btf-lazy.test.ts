/**
 * Btf.parse validates the whole blob at once but builds a type only when its
 * id is asked for, and indexes names by hash: these tests hold that the
 * answers are those of a plain scan over every type, and that validation is
 * still eager (a broken type nobody looks up still fails the parse).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Btf, BtfError, essentialName, loadBtfFile, type BtfType } from '../src/object/btf/index.js';
import { NameIndex, hashBytes, hashBytesBoth, hashString, essentialEnd } from '../src/object/btf/name-index.js';
import { ROOT } from './paths.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const kinds = (): Btf => loadBtfFile(new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures-btf/kinds.o'))));

/** The name lookups, answered by a scan over every built type. */
function scan(types: readonly BtfType[], key: (n: string) => string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const t of types) {
    if (t.name === '') continue;
    const k = key(t.name);
    m.set(k, [...(m.get(k) ?? []), t.id]);
  }
  return m;
}

function sameLookups(btf: Btf, every: number): void {
  // look names up before anything builds all types, so the lazy paths answer
  const names: string[] = [];
  for (let id = 1; id < btf.length; id += every) names.push(btf.nameOf(id));
  const got = names.map((n) => [btf.idsByName(n), btf.idsByEssentialName(essentialName(n))] as const);
  const byName = scan(btf.types, (n) => n);
  const byEss = scan(btf.types, essentialName);
  names.forEach((n, i) => {
    if (n === '') return;
    assert.deepEqual(got[i]![0], byName.get(n), `idsByName(${n})`);
    assert.deepEqual(got[i]![1], byEss.get(essentialName(n)), `idsByEssentialName(${essentialName(n)})`);
  });
  assert.deepEqual(btf.idsByName('no such type, surely'), []);
  assert.deepEqual(btf.idsByName(''), []);
}

test('name lookups on the fixture equal a scan over every type', () => {
  sameLookups(kinds(), 1);
});

test('name lookups on the kernel BTF equal a scan over every type, if present', { skip: !existsSync(VMLINUX) && `no ${VMLINUX}` }, () => {
  const vm = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
  sameLookups(vm, 37);
  // flavoured local names find the kernel's type by its essential name
  assert.deepEqual(vm.idsByEssentialName(essentialName('task_struct___o')), vm.idsByName('task_struct').filter((id) => essentialName(vm.nameOf(id)) === 'task_struct'));
});

test('a type is built once and is the same object on every lookup', () => {
  const btf = Btf.parse(kinds().encode());
  const id = btf.typeByName('mixed', 'struct')!.id;
  assert.equal(btf.typeById(id), btf.typeById(id));
  assert.equal(btf.types[id], btf.typeById(id));
  assert.throws(() => btf.typeById(btf.length), (e: unknown) => e instanceof BtfError && e.errno === 'ENOENT');
  assert.throws(() => btf.typeById(1.5), (e: unknown) => e instanceof BtfError && e.errno === 'ENOENT');
  assert.throws(() => btf.typeById(-1), (e: unknown) => e instanceof BtfError && e.errno === 'ENOENT');
});

/** [1] int, [2] struct s { int x; }, [3] func_proto, [4] func f, [5] var v, [6] datasec, [7] decl_tag on s.x */
function sample(): Uint8Array {
  return Btf.fromTypes([
    { id: 1, kind: 'int', name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } },
    { id: 2, kind: 'struct', name: 's', size: 4, kindFlag: false, members: [{ name: 'x', typeId: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { id: 3, kind: 'func_proto', name: '', returnTypeId: 1, params: [{ name: 'a', typeId: 1 }] },
    { id: 4, kind: 'func', name: 'f', typeId: 3, linkage: 'global' },
    { id: 5, kind: 'var', name: 'v', typeId: 1, linkage: 'global' },
    { id: 6, kind: 'datasec', name: '.data', size: 4, vars: [{ typeId: 5, offset: 0, size: 4 }] },
    { id: 7, kind: 'decl_tag', name: 'tag', typeId: 2, componentIdx: 0 },
  ]).encode('le');
}

/** Offsets of each type's record in sample() (header 24; int 16, struct 24, proto 20, func 12, var 16, datasec 24, tag 16). */
const AT = { int: 24, struct: 40, proto: 64, func: 84, var: 96, datasec: 112, tag: 136 };

test('references of types nobody looks up are still checked at parse, with the same messages', () => {
  assert.equal(Btf.parse(sample()).length, 8);
  const cases: Array<[string, (dv: DataView) => void, number, RegExp]> = [
    ['struct member to a missing type', (dv) => dv.setUint32(AT.struct + 16, 99, true), AT.struct, /member 'x' refers to missing type 99/],
    ['struct member to void', (dv) => dv.setUint32(AT.struct + 16, 0, true), AT.struct, /member 'x' refers to void/],
    ['func to a non-proto', (dv) => dv.setUint32(AT.func + 8, 1, true), AT.func, /type_id 1 is a int, not a func_proto/],
    ['var to void', (dv) => dv.setUint32(AT.var + 8, 0, true), AT.var, /type_id refers to void/],
    ['datasec entry that is not a var', (dv) => dv.setUint32(AT.datasec + 12, 1, true), AT.datasec, /entry 1 is a int, not a var/],
    ['decl_tag component out of range', (dv) => dv.setInt32(AT.tag + 12, 1, true), AT.tag, /component_idx 1 out of range/],
    ['decl_tag component below -1', (dv) => dv.setInt32(AT.tag + 12, -2, true), AT.tag, /invalid component_idx -2/],
  ];
  for (const [what, mutate, at, reason] of cases) {
    const b = sample();
    mutate(new DataView(b.buffer));
    assert.throws(
      () => Btf.parse(b),
      (e: unknown) => e instanceof BtfError && e.offset === at && reason.test(e.message),
      what,
    );
  }
  // a var whose name offset is not 0 but points at an empty string is anonymous too
  const b = sample();
  const dv = new DataView(b.buffer);
  const strOff = 24 + dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  dv.setUint32(AT.var, strLen - 1, true); // the section's final NUL
  assert.equal(b[strOff + strLen - 1], 0);
  assert.throws(() => Btf.parse(b), (e: unknown) => e instanceof BtfError && /anonymous var/.test(e.message));
});

test('names that share a hash bucket are told apart by their names', () => {
  // 6000 names in 8192 buckets: by the pigeonhole many chains hold several
  const names = ['', ...Array.from({ length: 6000 }, (_, i) => `n${i % 4000}`)];
  const buckets = new Set(names.slice(1).map((n) => hashString(n) & 8191));
  assert.ok(buckets.size < 4000, 'some distinct names share a bucket');
  const idx = new NameIndex(Uint32Array.from(names, (n) => (n === '' ? 0 : hashString(n))), (id) => names[id]!);
  for (let i = 0; i < 4000; i++) {
    const want = i < 2000 ? [i + 1, i + 4001] : [i + 1];
    assert.deepEqual(idx.lookup(`n${i}`), want, `n${i}`);
  }
  assert.deepEqual(idx.lookup('n4000'), []);
});

test('the index hashes strings and their UTF-8 bytes alike, and cuts flavours as essentialName does', () => {
  const enc = new TextEncoder();
  for (const s of ['task_struct', 'naïve_ü', 'x', '', 'task_struct___o', 'a____b', '___x', 'a___b___c', 'a___', 'é___old', 'a___b', 'a___bc___', '_a___b', 'ab___c_', 'x___y____z', 'x____y___z']) {
    const b = enc.encode(s);
    assert.equal(hashString(s), hashBytes(b, 0, b.length), s);
    const ess = enc.encode(essentialName(s));
    assert.equal(essentialEnd(b, 0, b.length), ess.length, `essential part of ${s}`);
    // the one-pass hashing the indexes are built from gives both hashes
    const plain = new Uint32Array(1), essential = new Uint32Array(1);
    hashBytesBoth(b, 0, b.length, plain, essential, 0);
    assert.equal(plain[0], hashBytes(b, 0, b.length), `hash of ${s}`);
    assert.equal(essential[0], hashString(essentialName(s)), `essential hash of ${s}`);
  }
});
