/**
 * Program-allocated objects (src/verifier/alloc-obj.ts, src/object/btf/struct-meta.ts).
 * The kernel's verdicts on the C programs of test/real-progs/alloc_*.c are recorded
 * (test/real-progs.test.ts holds tsbpf to them); here: the special fields of a local
 * struct, the pointers bpf_obj_new and bpf_refcount_acquire return, which stashed
 * structs tsbpf takes for the program's own, and the runtime, which refuses to run
 * a program allocating objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { structMeta } from '../src/object/btf/struct-meta.js';
import { buildNameFilter, filterHas, mayBeKernelStruct } from '../src/object/btf/kernel-struct-names.js';
import { TsbpfError } from '../src/errors.js';
import { DIR, corpusKernelBtf } from './real-progs/corpus.js';

function judge(obj: string, kernelBtf?: ReturnType<typeof corpusKernelBtf>): { ok: boolean; errno?: string; message?: string; log: string } {
  const coll = loadObjectFileSync(join(DIR, obj));
  const prog = [...coll.programs.values()][0]!;
  const r = verify(inputFromSpec(coll, prog, { logLevel: 2, ...(kernelBtf ? { kernelBtf } : {}) }));
  return { ok: r.ok, errno: r.error?.errno, message: r.error?.kernelMessage.split('\n').pop(), log: r.log ?? '' };
}

test('a local struct has a record where a member is a special field: its fields and its bpf_refcount', () => {
  const btf = loadObjectFileSync(join(DIR, 'alloc_refcount.o')).btf!;
  const id = (name: string): number => btf.typeByName(name, 'struct')!.id;
  assert.deepEqual(structMeta(btf, id('counted')), { fields: [{ off: 8, size: 4, kind: 'bpf_refcount' }], refcountOff: 8 });
  const plain = loadObjectFileSync(join(DIR, 'alloc_new_drop.o')).btf!;
  assert.equal(structMeta(plain, plain.typeByName('point', 'struct')!.id), undefined);
  const stash = loadObjectFileSync(join(DIR, 'alloc_stash.o')).btf!;
  assert.deepEqual(structMeta(stash, stash.typeByName('tree_item', 'struct')!.id), { fields: [{ off: 8, size: 32, kind: 'bpf_rb_node' }] });
});

test('bpf_obj_new returns a maybe-NULL owning pointer; bpf_refcount_acquire of an owning one is never NULL', () => {
  const r = judge('alloc_refcount.o');
  assert.equal(r.ok, true, r.message);
  assert.match(r.log, /R0(_w)?=ptr_or_null_counted\(/);
  // after bpf_refcount_acquire: r0 is used without a NULL check, and is a plain (owning) pointer
  assert.match(r.log, /R0(_w)?=ptr_counted\(/);
  assert.doesNotMatch(r.log, /alloc_ptr|rcu_ptr_counted/);
});

test('a stashed struct is the program\'s where no kernel struct could be it', () => {
  // tree_item holds a bpf_rb_node, which no kernel struct holds: the program's, whatever the kernel BTF
  assert.equal(judge('alloc_stash.o').ok, true);
  assert.equal(judge('alloc_stash.o', corpusKernelBtf()).ok, true);
  // a kernel-typed pointer never goes into a program's struct field, nor the other way
  assert.equal(judge('alloc_stash_wrong_type.o').message, 'invalid kptr access, R2 type=ptr_point expected=ptr_tree_item');
});

test('a local struct\'s kptrs are in its record, with their struct; a FWD pointee makes none', () => {
  const btf = loadObjectFileSync(join(DIR, 'kptr_obj_xchg.o')).btf!;
  const point = btf.typeByName('point', 'struct')!.id;
  assert.deepEqual(structMeta(btf, btf.typeByName('holder', 'struct')!.id), { fields: [{ off: 0, size: 8, kind: 'kptr', kptr: { off: 0, kind: 'kptr', struct: 'point', typeId: point } }] });
  // (kptr_fwd_pointee.c: a member tagged kptr whose struct clang only declared is plain memory)
  const fwd = loadObjectFileSync(join(DIR, 'kptr_fwd_pointee.o')).btf!;
  for (const t of fwd.types) if (t.kind === 'struct' && t.name) assert.equal(structMeta(fwd, t.id), undefined, t.name);
});

test('bpf_kptr_xchg into an object\'s kptr, and kptrs to plain local structs, in every kernel BTF', () => {
  for (const k of [undefined, corpusKernelBtf()]) {
    assert.equal(judge('kptr_obj_xchg.o', k).ok, true);
    assert.equal(judge('kptr_obj_not_kptr.o', k).message, 'off=8 doesn\'t point to kptr');
    assert.equal(judge('kptr_obj_wrong_type.o', k).message, 'invalid kptr access, R2 type=ptr_counted expected=ptr_point');
    // struct point has no field only a program's struct has; the kernel has no struct of that name
    assert.equal(judge('kptr_local_plain.o', k).ok, true);
    assert.match(judge('kptr_local_plain.o', k).log, /R0(_w)?=ptr_or_null_point\(/);
  }
  assert.equal(mayBeKernelStruct('point'), false);
  assert.equal(mayBeKernelStruct('task_struct'), true);
});

test('the kernel struct name filter holds every name it was built of and few others', () => {
  const names = Array.from({ length: 500 }, (_, i) => `s${i}`);
  const f = buildNameFilter(names);
  for (const n of names) assert.equal(filterHas(f, n), true, n);
  const others = Array.from({ length: 2000 }, (_, i) => `other_${i}`).filter((n) => filterHas(f, n));
  assert.ok(others.length < 40, `${others.length} false positives of 2000`);
});

test('the runtime refuses to run a program allocating objects, naming the kfunc', async () => {
  using rt = new Runtime({});
  await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'alloc_new_drop.o'))),
    (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_obj_new_impl/.test(e.message));
});
