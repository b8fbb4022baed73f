/**
 * The tracing helpers on the kernel model (src/helpers/tracing.ts, through
 * src/testing/kit.ts): test/testing-progs/task_reader.c reads the current
 * task with bpf_get_current_task + BPF_CORE_READ and the get_current_*
 * helpers, probe-reads its arguments (a kernel string, a struct file's
 * dentry name, an address the model does not hold), the clock, a stack,
 * and sends a signal; `misc` reads perf counters and stacks with flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit, shippedKernelBtf } from '../src/testing/index.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { TsbpfError } from '../src/errors.js';

const PROG = join(ROOT, 'test/testing-progs/task_reader.o');
type Rec = Record<string, unknown>;

test('kit: the current task is one fact: get_current_task, CO-RE reads and get_current_* agree', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const parent = kit.model.object('task_struct', { pid: 300, tgid: 300, comm: 'sshd' });
  const task = kit.model.object('task_struct', { pid: 4243, tgid: 4242, comm: 'bash', real_parent: parent, cred: { uid: 1001, gid: 1002 }, in_execve: 1 });
  const cg = kit.model.object('css_set', { dfl_cgrp: { kn: { id: 9876n } } });
  task.set({ cgroups: cg });
  kit.clock.advance(123);
  const r = await kit.fire(coll.program('on_open'), { task, args: [-100, '/etc/passwd'] });
  assert.equal(r.retval, 4243n);
  assert.equal(r.records.events?.length, 1);
  const e = kit.decode(coll, 'event', r.records.events![0]!) as Rec;
  assert.equal(e.pid, 4243);
  assert.equal(e.tgid, 4242);
  assert.equal(e.ppid, 300);
  assert.equal(e.uid, 1001);
  assert.equal(e.in_execve, 1);
  assert.equal(e.pid_tgid, (4242n << 32n) | 4243n);
  assert.equal(e.uid_gid, (1002n << 32n) | 1001n);
  assert.equal(e.cgroup, 9876n);
  assert.equal(e.ts, 1_000_000_123n);
  assert.equal(e.comm, 'bash');
  assert.equal(e.task_comm, 'bash');
  assert.equal(e.name, '/etc/passwd');
  assert.equal(e.name_ret, 12n);
  // The event's task was current only during the event.
  assert.equal(kit.task.get('comm'), 'tsbpf-test');
  assert.deepEqual(r.calls, []);
});

test('kit: probe reads of model objects, and of addresses the model does not hold', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const d = kit.model.object('dentry', { d_name: { name: 'shadow', len: 6 } });
  const file = kit.model.object('file', { f_path: { dentry: d }, f_flags: 0o2 });
  // arg 4: an address inside the space that no object of the model (or the program) holds
  const r = await kit.fire(coll.program('on_open'), { args: [-100, '/etc/shadow', file, 0x7f000000] });
  const e = kit.decode(coll, 'event', r.records.events![0]!) as Rec;
  assert.equal(e.fname, 'shadow');
  assert.equal(e.flags_bits, 0o2);
  assert.equal(e.bad_ret, -14n, '-EFAULT');
  assert.deepEqual(e.bad, [0, 0, 0, 0, 0, 0, 0, 0]);
  // a NULL file: the CO-RE reads fault, the string is empty
  const r2 = await kit.fire(coll.program('on_open'), { args: [-100, '/x', null, 16] });
  const e2 = kit.decode(coll, 'event', r2.records.events![0]!) as Rec;
  assert.equal(e2.fname, '');
  assert.equal(e2.bad_ret, -34n, '-ERANGE below the kernel\'s addresses (copy_from_kernel_nofault)');
});

test('kit: bpf_get_stack copies the stack the test gives, with skip, user and build-id flags', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const out = async (args: Array<number | bigint>, stack?: { kernel?: bigint[]; user?: bigint[] }): Promise<Rec> => {
    await kit.fire('kprobe/misc', { args, ...(stack ? { stack } : {}) });
    return kit.decode(coll, 'misc_out', coll.map('misc_out').get(0) as Uint8Array) as Rec;
  };
  const ks = [0xffffffff81000001n, 0xffffffff81000002n, 0xffffffff81000003n, 0xffffffff81000004n];
  let o = await out([0, 0, 10], { kernel: ks });
  assert.equal(o.stack_ret, 24n);
  assert.deepEqual(o.stack, ks.slice(0, 3));
  o = await out([0, 2, 10], { kernel: ks });
  assert.equal(o.stack_ret, 16n, 'skip 2: two frames left');
  assert.deepEqual(o.stack, [ks[2], ks[3], 0n]);
  o = await out([0, 5, 10], { kernel: ks });
  assert.equal(o.stack_ret, -14n, 'skipping past the chain is -EFAULT');
  assert.deepEqual(o.stack, [0n, 0n, 0n]);
  o = await out([0, 0x100, 10], { kernel: ks, user: [0x401000n] });
  assert.equal(o.stack_ret, 8n, 'BPF_F_USER_STACK');
  assert.deepEqual(o.stack, [0x401000n, 0n, 0n]);
  o = await out([0, 0x800, 10], { kernel: ks });
  assert.equal(o.stack_ret, -22n, 'BPF_F_USER_BUILD_ID without BPF_F_USER_STACK');
  o = await out([0, 1 << 12, 10], { kernel: ks });
  assert.equal(o.stack_ret, -22n, 'unknown flag');
  // no stack given: an empty chain
  o = await out([0, 0, 10]);
  assert.equal(o.stack_ret, 0n);
});

test('kit: perf counters the test opens, signals recorded as calls', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  kit.perfCounter(coll.map('counters'), 0, { counter: 77n, enabled: 5n, running: 4n });
  const get = (): Rec => kit.decode(coll, 'misc_out', coll.map('misc_out').get(0) as Uint8Array) as Rec;
  let r = await kit.fire('kprobe/misc', { args: [0, 0, 10] });
  let o = get();
  assert.equal(o.read_ret, 77n);
  assert.equal(o.value_ret, 0n);
  assert.deepEqual(o.value, { counter: 77n, enabled: 5n, running: 4n });
  assert.equal(o.signal_ret, 0n);
  assert.deepEqual(r.calls, [{ helper: 'send_signal', program: 'misc', args: { sig: 10, pid: 1000, tgid: 1000 } }]);
  // slot 1: no event open there; slot 9: past max_entries; 0xffffffff: this CPU's (0)
  r = await kit.fire('kprobe/misc', { args: [1, 0, 65] });
  o = get();
  assert.equal(o.read_ret, -2n);
  assert.equal(o.value_ret, -2n);
  assert.deepEqual(o.value, { counter: 0n, enabled: 0n, running: 0n });
  assert.equal(o.signal_ret, -22n, 'signal 65 is not valid');
  assert.deepEqual(r.calls, []);
  await kit.fire('kprobe/misc', { args: [9, 0, 0] });
  assert.equal(get().read_ret, -7n, '-E2BIG');
  await kit.fire('kprobe/misc', { args: [0xffffffff, 0, 0] });
  assert.equal(get().read_ret, 77n);
  await kit.fire('kprobe/misc', { args: [1n << 40n, 0, 0] });
  assert.equal(get().read_ret, -22n, 'flags beyond the index mask');
  // init may not be signalled
  const init = kit.model.object('task_struct', { pid: 1, tgid: 1 });
  await kit.fire('kprobe/misc', { args: [0, 0, 9], task: init });
  assert.equal(get().signal_ret, -1n, '-EPERM');
  // signal 0 (a permission check in the kernel) is a valid call too
  assert.deepEqual(kit.calls.map((c) => c.args.sig), [10, 0, 0, 0]);
});

test('kit: a perf_event sample — registers, sample_period, addr, the sampling counter, stacks, a signal', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(ROOT, 'test/testing-progs/perf_sample.o'));
  const get = (): Rec => kit.decode(coll, 'seen', coll.map('seen').get(0) as Uint8Array) as Rec;
  const stack = { kernel: [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n], user: [0x401000n, 0x402000n] };
  const r = await kit.fire('perf_event', {
    regs: { ip: 0x401000n, sp: 0x7ffc0000n }, args: [7], samplePeriod: 4000, addr: 0xdead000n,
    perfCounter: { counter: 123456n, enabled: 1000n, running: 900n }, stack,
  });
  const o = get();
  assert.equal(o.ip, 0x401000n);
  assert.equal(o.sp, 0x7ffc0000n);
  assert.equal(o.arg1, 7n);
  assert.equal(o.period, 4000n);
  assert.equal(o.addr, 0xdead000n);
  assert.equal(o.read_ret, 0n);
  assert.deepEqual(o.value, { counter: 123456n, enabled: 1000n, running: 900n }, 'bpf_perf_prog_read_value: the sampling event');
  assert.equal(o.bad_size_ret, -22n, 'a size other than sizeof(struct bpf_perf_event_value) is -EINVAL');
  assert.deepEqual(o.bad, { counter: 0n, enabled: 0n, running: 0n });
  assert.equal(o.stack_ret, 16n, 'skip 1: two kernel frames, 16 bytes');
  assert.deepEqual(o.stack, [0xffffffff81000020n, 0xffffffff81000030n, 0n, 0n]);
  assert.ok((o.stackid_ret as bigint) >= 0n);
  assert.deepEqual(coll.map('stacks', 'stack_trace').frames(Number(o.stackid_ret)), stack.user);
  assert.equal(o.signal_ret, 0n);
  assert.deepEqual(r.calls, [{ helper: 'send_signal_thread', program: 'sample', args: { sig: 27, pid: 1000, tgid: 1000 } }]);
  // the next sample gives no counter and no stacks: zeros, -EFAULT for the stack id, no signal under the threshold
  const r2 = await kit.fire('perf_event', { samplePeriod: 10 });
  const o2 = get();
  assert.deepEqual(o2.value, { counter: 0n, enabled: 0n, running: 0n });
  assert.equal(o2.stack_ret, -14n, '-EFAULT: skip 1 of no frames');
  assert.equal(o2.stackid_ret, -14n);
  assert.equal(o2.signal_ret, 1n);
  assert.deepEqual(r2.calls, []);
});

test('kit: a runtime without a modelled kernel still refuses the tracing helpers at load', async () => {
  const rt = new Runtime({ kernelBtf: shippedKernelBtf() });
  const spec = await loadObjectFile(PROG);
  await assert.rejects(rt.load(spec), (e: unknown) => e instanceof TsbpfError && /get_current_task#35/.test(e.message));
  rt.close();
});
