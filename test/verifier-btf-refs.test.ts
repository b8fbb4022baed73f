/**
 * Kernel-object pointers (issue 14, part 2): what the corpus's verdict
 * comparison does not pin down by itself.
 *
 * - Safety: one load reached with a kernel object on one path and other
 *   memory on another is refused (save_aux_ptr_type), where tsbpf would
 *   otherwise have read 0 through the probe load; a load through two kernel
 *   objects of different trust stays a probe load.
 * - References: the leak names the reference and the instruction that took
 *   it with the kernel's numbers (its log, recorded: "Unreleased reference
 *   id=4 alloc_insn=6"), and a released pointer is unusable.
 * - Running: a program calling bpf_task_acquire verifies and runs under the
 *   test kit, on the kit's model tasks (helpers/object-kfuncs.ts).
 * The programs are test/verifier-corpus/btf-ptr.txt and kfunc-refs.txt and
 * test/real-progs/, all with verdicts recorded from the running kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { TestKit } from '../src/testing/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { TsbpfError } from '../src/errors.js';
import { loadCorpus, readVerdicts, verifierInput } from './support/verifier-cases.js';
import { DIR, corpusKernelBtf } from './real-progs/corpus.js';

const cases = new Map(loadCorpus().filter((c) => c.group === 'btf-ptr' || c.group === 'kfunc-refs').map((c) => [c.name, c]));
const recorded = readVerdicts().cases;
const run = (name: string): ReturnType<typeof verify> => {
  const c = cases.get(name);
  assert.ok(c, `corpus case ${name}`);
  return verify(verifierInput(c));
};

test('a load reached through a kernel object and through the stack, a map value or the context is refused', () => {
  for (const name of ['bp_mix_btf_stack_load', 'bp_mix_stack_btf_load', 'bp_mix_btf_map_value_load', 'bp_mix_ctx_btf_load', 'bp_mix_btf_ctx_load']) {
    assert.equal(recorded[name]?.kernelMessage, 'same insn cannot be used with different pointers', `${name}: the kernel's verdict`);
    const r = run(name);
    assert.equal(r.ok, false, `${name}: tsbpf must refuse it`);
    assert.equal(r.error?.errno, 'EINVAL');
    assert.equal(r.error?.kernelMessage, 'same insn cannot be used with different pointers');
  }
});

test('a load through two kernel objects of different trust is one probe load, as in Linux', () => {
  const r = run('bp_mix_trusted_untrusted_load');
  assert.equal(r.ok, true, r.log);
  const c = cases.get('bp_mix_trusted_untrusted_load')!;
  // the shared load: `r0 = *(u64 *)(r8 +80)`, the only load through r8
  const at = c.insns.findIndex((x) => x.code === 0x79 && x.src === 8 && x.off === 80);
  assert.ok(at > 0);
  assert.equal(r.aux?.[at]?.probeMem, true, 'the engines must check it');
});

test('an unreleased reference is named with the kernel\'s id and instruction', () => {
  // the kernel's log lines for these cases (kloader at log level 1, Linux 6.18)
  for (const [name, line] of [
    ['kr_task_acquire_leak', 'Unreleased reference id=2 alloc_insn=1'],
    ['kr_task_from_pid_leak', 'Unreleased reference id=2 alloc_insn=1'],
    ['kr_task_acquire_two_refs_leak_second', 'Unreleased reference id=4 alloc_insn=6'],
  ] as const) {
    const r = run(name);
    assert.equal(r.ok, false);
    assert.equal(r.error?.kernelMessage, `${line}\nBPF_EXIT instruction in main prog would lead to reference leak`);
    assert.match(r.error?.hint ?? '', /release what bpf_task_(acquire|from_pid)/);
  }
});

test('a released task cannot be read, released again, or released at an offset', () => {
  assert.equal(run('kr_task_use_after_release').error?.kernelMessage, 'R6 invalid mem access \'scalar\'');
  assert.equal(run('kr_task_release_twice').error?.kernelMessage, 'arg#0 pointer type STRUCT task_struct must point to scalar, or struct with scalar');
  assert.equal(run('kr_task_release_offset').error?.kernelMessage, 'R1 must have zero offset when passed to release func or trusted arg to kfunc');
  assert.equal(run('kr_task_acquire_release').ok, true);
});

test('a program calling bpf_task_acquire verifies and runs on the kit\'s tasks', async () => {
  // (the kit's own small kernel: the corpus's subset of this machine's BTF lacks what the kit's model needs)
  const kit = new TestKit();
  using _ = kit;
  const coll = await kit.load(loadObjectFileSync(join(DIR, 'kfunc_task_acquire.o')));
  const init = kit.model.objects('task_struct').find((t) => t.get('pid') === 1n);
  assert.ok(init, 'the kit models init');
  // sched_switch(preempt, prev, next): the reference taken on prev reads its pid
  assert.equal((await kit.fire(coll.program('kfunc_task_acquire'), { args: [0, init, kit.task] })).retval, 1n);
  assert.equal((await kit.fire(coll.program('kfunc_task_acquire'), { args: [0, kit.task, init] })).retval, 0n);
});
