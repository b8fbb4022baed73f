/**
 * kptrs (src/object/btf/map-fields.ts, src/verifier/kptr.ts). The kernel's
 * verdicts on the C programs of test/real-progs/kptr_*.c are recorded
 * (test/real-progs.test.ts holds tsbpf to them); here: the fields found in
 * BTF, what a load yields inside and outside an RCU read section, the
 * reference bpf_kptr_xchg hands back, and the runtime, which refuses to run
 * a program using a map with kptrs and hides them from the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify, type VerifierMapInfo } from '../src/verifier/index.js';
import { assemble } from '../src/isa/asm/index.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { mapValueFields } from '../src/object/btf/map-fields.js';
import { Btf } from '../src/object/btf/btf.js';
import type { BtfType } from '../src/object/btf/types.js';
import { specialFieldsOf } from '../src/maps/special-fields.js';
import { TsbpfError } from '../src/errors.js';
import { DIR, corpusKernelBtf } from './real-progs/corpus.js';

test('the kptr fields of a value: referenced and untrusted, by offset; a declared-only struct is no kptr', () => {
  const coll = loadObjectFileSync(join(DIR, 'kptr_xchg_store.o'));
  const slots = coll.maps.get('slots')!;
  const f = mapValueFields(coll.btf!, slots.btfValueTypeId!);
  assert.deepEqual(f?.kptrs?.map(({ off, kind, struct }) => ({ off, kind, struct })), [
    { off: 8, kind: 'kptr', struct: 'task_struct' },
    { off: 16, kind: 'kptr_untrusted', struct: 'task_struct' },
  ]);
  assert.deepEqual(specialFieldsOf(slots, coll.btf), [[8, 8], [16, 8]]);
  // kptr_fwd_pointee.c never uses struct task_struct: clang emits a FWD, and Linux takes no kptr
  const fwd = loadObjectFileSync(join(DIR, 'kptr_fwd_pointee.o'));
  assert.equal(mapValueFields(fwd.btf!, fwd.maps.get('slots')!.btfValueTypeId!), undefined);
});

test('kptrs in arrays, behind volatile, and as global variables of a DATASEC; a bad tag is no field', () => {
  const types: BtfType[] = [
    { id: 1, kind: 'struct', name: 'obj', size: 8, kindFlag: false, members: [] },
    { id: 2, kind: 'type_tag', name: 'kptr', typeId: 1 },
    { id: 3, kind: 'ptr', name: '', typeId: 2 },
    { id: 4, kind: 'int', name: 'int', size: 4, encoding: { signed: true, char: false, bool: false }, bits: 32, offset: 0 },
    { id: 5, kind: 'array', name: '', elemTypeId: 3, indexTypeId: 4, nelems: 2 },
    { id: 6, kind: 'volatile', name: '', typeId: 3 },
    { id: 7, kind: 'type_tag', name: 'percpu_kptr', typeId: 1 },
    { id: 8, kind: 'ptr', name: '', typeId: 7 },
    { id: 9, kind: 'type_tag', name: 'not_a_kptr', typeId: 1 },
    { id: 10, kind: 'ptr', name: '', typeId: 9 },
    { id: 11, kind: 'struct', name: 'val', size: 40, kindFlag: false, members: [
      { name: 'two', typeId: 5, bitOffset: 0, bitfieldSize: 0 },
      { name: 'vol', typeId: 6, bitOffset: 128, bitfieldSize: 0 },
      { name: 'pcpu', typeId: 8, bitOffset: 192, bitfieldSize: 0 },
      { name: 'bad', typeId: 10, bitOffset: 256, bitfieldSize: 0 },
    ] },
    { id: 12, kind: 'var', name: 'g', typeId: 3, linkage: 'global' },
    { id: 13, kind: 'datasec', name: '.bss.A', size: 16, vars: [{ typeId: 12, offset: 8, size: 8 }] },
  ] as BtfType[];
  const btf = Btf.fromTypes(types);
  assert.deepEqual(mapValueFields(btf, 11)?.kptrs?.map(({ off, kind }) => [off, kind]), [[0, 'kptr'], [8, 'kptr'], [16, 'kptr'], [24, 'percpu_kptr']]);
  assert.deepEqual(mapValueFields(btf, 13)?.kptrs?.map(({ off, struct }) => [off, struct]), [[8, 'obj']]);
});

const SLOTS: VerifierMapInfo = {
  name: 'slots', type: 'array', keySize: 4, valueSize: 24, maxEntries: 4, flags: 0, btf: true,
  fields: { kptrs: [{ off: 8, kind: 'kptr', struct: 'task_struct', typeId: 0 }, { off: 16, kind: 'kptr_untrusted', struct: 'task_struct', typeId: 0 }] },
};

/** Load the kptr at `off` of slot 0 into r1 and end with `tail`. */
function loadKptr(off: number, tail: string): string {
  return `
  *(u32 *)(r10 -4) = 0
  r2 = r10
  r2 += -4
  r1 = map[fd:0]
  call bpf_map_lookup_elem
  if r0 == 0x0 goto out
  r1 = *(u64 *)(r0 +${off})
${tail}
out:
  r0 = 0x0
  exit`;
}

function judge(src: string, progType: 'syscall' | 'sched_cls', sleepable = false): { ok: boolean; message?: string; log: string } {
  const r = verify({ insns: assemble(src), progType, maps: [SLOTS], kernelBtf: corpusKernelBtf(), sleepable, logLevel: 2 });
  return { ok: r.ok, log: r.log ?? '', ...(r.error ? { message: r.error.kernelMessage } : {}) };
}

test('a referenced kptr loads rcu_ptr_or_null_ where the program cannot sleep, untrusted_ where it can', () => {
  // a plain read of the (NULL-checked) pointer is fine either way; the type is in the log
  const read = loadKptr(8, '  if r1 == 0x0 goto out\n  r2 = *(u32 *)(r1 +0)');
  const tc = judge(read, 'sched_cls');
  assert.equal(tc.ok, true, tc.message);
  assert.match(tc.log, /R1=rcu_ptr_or_null_task_struct/);
  const sys = judge(read, 'syscall', true);
  assert.equal(sys.ok, true, sys.message);
  assert.match(sys.log, /R1=untrusted_ptr_or_null_task_struct/);
  // the untrusted field loads untrusted even where the program cannot sleep
  assert.match(judge(loadKptr(16, '  if r1 == 0x0 goto out\n  r2 = *(u32 *)(r1 +0)'), 'sched_cls').log, /R1=untrusted_ptr_or_null_task_struct/);
  // unchecked: the maybe-NULL pointer is not read
  assert.equal(judge(loadKptr(8, '  r2 = *(u32 *)(r1 +0)'), 'sched_cls').message, "R1 invalid mem access 'rcu_ptr_or_null_'");
});

test('bpf_kptr_xchg hands back a reference that must be released, and takes over the one it is given', () => {
  const xchg = (tail: string): string => `
  *(u32 *)(r10 -4) = 0
  r2 = r10
  r2 += -4
  r1 = map[fd:0]
  call bpf_map_lookup_elem
  if r0 == 0x0 goto out
  r1 = r0
  r1 += 8
  r2 = 0x0
  call bpf_kptr_xchg
${tail}
out:
  r0 = 0x0
  exit`;
  assert.match(judge(xchg(''), 'sched_cls').message ?? '', /reference leak|Unreleased reference/);
  // the pointer given to bpf_kptr_xchg is released: using it afterwards is refused
  const after = xchg(`  if r0 == 0x0 goto out
  r6 = r0
  r1 = map[fd:0]
  *(u32 *)(r10 -4) = 1
  r2 = r10
  r2 += -4
  call bpf_map_lookup_elem
  if r0 == 0x0 goto out
  r1 = r0
  r1 += 8
  r2 = r6
  call bpf_kptr_xchg
  r1 = *(u32 *)(r6 +0)
  if r0 == 0x0 goto out
  r0 = 0x0
  exit`);
  assert.match(judge(after, 'sched_cls').message ?? '', /R6 !read_ok|invalid mem access/);
});

test('the runtime refuses to run a program using a map with kptrs, naming them', async () => {
  using rt = new Runtime({});
  await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'kptr_untrusted_store.o'))),
    (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /kptr/.test(e.message));
  // bpf_kptr_xchg itself is a helper the runtime does not implement
  using rt2 = new Runtime({});
  await assert.rejects(rt2.load(loadObjectFileSync(join(DIR, 'kptr_xchg_take.o'))),
    (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /kptr_xchg/.test(e.message));
});
