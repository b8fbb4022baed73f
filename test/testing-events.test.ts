/**
 * Events (src/testing/events.ts): the context each kind of tracing program
 * gets, read back by test/testing-progs/events.c, kprobe_arm64.c and
 * btf_ptrs.c: kprobe registers (x86-64 and arm64), kretprobe return
 * values, ksyscall through the syscall wrapper's pt_regs, tracepoint
 * records from BTF (syscalls, __data_loc strings) and from a tracefs format
 * file, raw_tp argument arrays of model pointers, tp_btf.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit, parseFormat, shippedKernelBtf, SHIPPED_KERNEL_VERSION } from '../src/testing/index.js';
import { kernelVersionCode } from '../src/uapi/kernel-version.js';
import { release } from 'node:os';
import { TsbpfError } from '../src/errors.js';
import type { Collection } from '../src/runtime/index.js';

const PROGS = join(ROOT, 'test/testing-progs');
type Seen = { v: bigint[]; s: string };

function seenOf(kit: TestKit, coll: Collection): Seen {
  return kit.decode(coll, 'seen', coll.map('seen').get(0) as Uint8Array) as unknown as Seen;
}

function slots(coll: Collection, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => {
    const b = coll.map('seen').get(i) as Uint8Array;
    return new DataView(b.buffer, b.byteOffset).getBigInt64(0, true);
  });
}

test('events: kprobe arguments in the x86-64 registers, kretprobe return value in ax', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(PROGS, 'events.o'));
  await kit.fire('kprobe/six_args', { args: [1, -2, 3, 4, 5n, 6], regs: { ip: 0xffffffff81001234n, sp: 0x7000 } });
  assert.deepEqual(seenOf(kit, coll).v, [1n, -2n, 3n, 4n, 5n, 6n, BigInt.asIntN(64, 0xffffffff81001234n), 0x7000n]);
  await kit.fire(coll.program('krp'), { ret: -11 });
  assert.equal(seenOf(kit, coll).v[0], -11n);
  await assert.rejects(kit.fire('kprobe/six_args', { regs: { rip: 1 } }), (e: unknown) => e instanceof TsbpfError && /no register rip/.test(e.message));
  await assert.rejects(kit.fire('kprobe/six_args', { args: [1, 2, 3, 4, 5, 6, 7] }), (e: unknown) => e instanceof TsbpfError && e.errno === 'E2BIG');
  await assert.rejects(kit.fire('kprobe/nothing_here'), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
});

test('events: arm64 kprobes read user_pt_regs x0..', async () => {
  using kit = new TestKit({ arch: 'arm64' });
  const coll = await kit.load(join(PROGS, 'kprobe_arm64.o'));
  await kit.fire('kprobe/four_args', { args: [7, -8, 9, 10] });
  await kit.fire('kretprobe/four_args', { ret: 42 });
  assert.deepEqual(slots(coll, 5), [7n, -8n, 9n, 10n, 42n]);
  // The same event on x86-64 puts the arguments elsewhere: the layouts differ.
  using x86 = new TestKit();
  const c2 = await x86.load(join(PROGS, 'kprobe_arm64.o'));
  await x86.fire('kprobe/four_args', { args: [7, -8, 9, 10] });
  assert.notDeepEqual(slots(c2, 4), [7n, -8n, 9n, 10n]);
});

test('events: ksyscall reads the syscall arguments through the wrapper\'s pt_regs, or directly without a wrapper', async () => {
  {
    using kit = new TestKit();
    const coll = await kit.load(join(PROGS, 'events.o'));
    await kit.fire('ksyscall/openat', { args: [-100, '/etc/hosts', 0o101, 0o644] });
    const s = seenOf(kit, coll);
    assert.deepEqual(s.v.slice(0, 3), [-100n, 0o101n, 0o644n]);
    assert.equal(s.s, '/etc/hosts');
  }
  {
    using kit = new TestKit({ kconfig: { LINUX_HAS_SYSCALL_WRAPPER: false } });
    const coll = await kit.load(join(PROGS, 'events.o'));
    await kit.fire('ksyscall/openat', { args: [3, '/x', 1, 2] });
    const s = seenOf(kit, coll);
    assert.deepEqual(s.v.slice(0, 3), [3n, 1n, 2n]);
    assert.equal(s.s, '/x');
  }
});

test('events: tracepoint records from BTF: syscalls, __data_loc strings, char arrays', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(PROGS, 'events.o'));
  await kit.fire('tracepoint/syscalls/sys_enter_openat', { args: [-100, '/tmp/x', 2], fields: { id: 257 } });
  let s = seenOf(kit, coll);
  assert.deepEqual(s.v.slice(0, 3), [257n, -100n, 2n]);
  assert.equal(s.s, '/tmp/x');
  await kit.fire('tp/syscalls/sys_exit_openat', { ret: -13 });
  assert.equal(seenOf(kit, coll).v[0], -13n);
  await kit.fire('tp/sched/sched_process_exec', { fields: { filename: '/usr/bin/ls', pid: 77, old_pid: 76 } });
  s = seenOf(kit, coll);
  assert.deepEqual(s.v.slice(0, 3), [77n, 76n, 12n], 'pid, old_pid, the __data_loc length with its NUL');
  assert.equal(s.s, '/usr/bin/ls');
  await kit.fire('tp/sched/sched_switch', { fields: { prev_pid: 5, next_pid: 6, prev_state: 1, next_prio: 120, next_comm: 'kworker/0:1' } });
  s = seenOf(kit, coll);
  assert.deepEqual(s.v.slice(0, 4), [5n, 6n, 1n, 120n]);
  assert.equal(s.s, 'kworker/0:1');
  await assert.rejects(kit.fire('tp/sched/sched_switch', { fields: { nope: 1 } }), (e: unknown) => e instanceof TsbpfError && /no field nope/.test(e.message));
});

// The format of sched_process_exec as Linux 6.18's tracefs prints it.
const EXEC_FORMAT = `name: sched_process_exec
ID: 365
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
`;

test('events: a tracepoint record from a tracefs format file', async () => {
  const fmt = parseFormat(EXEC_FORMAT);
  assert.equal(fmt.id, 365);
  assert.equal(fmt.size, 20);
  assert.deepEqual(fmt.fields.map((f) => [f.name, f.offset, f.size, f.signed, f.dataLoc]).slice(3), [
    ['common_pid', 4, 4, true, false],
    ['filename', 8, 4, false, true],
    ['pid', 12, 4, true, false],
    ['old_pid', 16, 4, true, false],
  ]);
  using kit = new TestKit();
  const coll = await kit.load(join(PROGS, 'events.o'));
  await kit.fire('tp/sched/sched_process_exec', { format: EXEC_FORMAT, fields: { filename: '/bin/true', pid: -5, old_pid: 4 } });
  const s = seenOf(kit, coll);
  assert.deepEqual(s.v.slice(0, 3), [-5n, 4n, 10n]);
  assert.equal(s.s, '/bin/true');
  assert.throws(() => parseFormat('name: x\n'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
});

test('events: raw_tp argument arrays of model pointers', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(PROGS, 'events.o'));
  const a = kit.model.object('task_struct', { pid: 11, comm: 'a' });
  const b = kit.model.object('task_struct', { pid: 12, comm: 'bee' });
  await kit.fire('raw_tp/sched_switch', { args: [false, a, b, 1] });
  const s = seenOf(kit, coll);
  assert.deepEqual(s.v.slice(0, 4), [0n, 11n, 12n, 1n]);
  assert.equal(s.s, 'bee');
  await assert.rejects(kit.fire('raw_tp/sched_switch', { args: new Array(13).fill(0) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'E2BIG');
});

test('events: raw_tp and tp_btf on the same task_struct pointers', async () => {
  using kit = new TestKit();
  const parent = kit.model.object('task_struct', { tgid: 99 });
  const a = kit.model.object('task_struct', { pid: 11 });
  const b = kit.model.object('task_struct', { pid: 12, real_parent: parent });
  const raw = await kit.load(join(PROGS, 'btf_ptrs.o'), { programs: ['raw_switch'] });
  await kit.fire(raw.program('raw_switch'), { args: [true, a, b] });
  assert.deepEqual(slots(raw, 4), [1n, 11n, 12n, 99n]);
  const btf = await kit.load(join(PROGS, 'btf_ptrs.o'), { programs: ['on_switch'] });
  await kit.fire('tp_btf/sched_switch', { args: [true, a, b] });
  assert.deepEqual(slots(btf, 4), [1n, 11n, 12n, 99n]);
});

test('events: a CPU the kit lacks, and a program that is not a tracing program, are typed errors', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(PROGS, 'events.o'));
  await assert.rejects(kit.fire(coll.program('kp'), { cpu: 1 }), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENXIO');
  const xdp = await kit.load(join(ROOT, 'examples/testing/xdp_lb.bpf.o'));
  await assert.rejects(kit.fire(xdp.program('xdp_lb')), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /not a tracing program: run it with program.run\(\)/.test(e.message));
  // two CPUs: the event runs on the one it names
  using two = new TestKit({ runtime: { numCpus: 2 } });
  const c2 = await two.load(join(PROGS, 'events.o'));
  assert.equal((await two.fire(c2.program('kp'), { cpu: 1 })).retval, 0n);
});

test('events: a tracepoint record by event class, by the program\'s CO-RE relocations or its context type', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(ROOT, 'test/testing-progs/records.o'));
  // tcp_destroy_sock is DEFINE_EVENT(tcp_event_sk, ...): the class's record
  let r = await kit.fire('tracepoint/tcp/tcp_destroy_sock', { fields: { sport: 443, dport: 5000 } });
  assert.equal(r.retval, 443n);
  // an event the kit does not know, read through trace_event_raw_tcp_event_sk___x: that struct's record
  r = await kit.fire(coll.program('by_relocation'), { fields: { dport: 80, sock_cookie: 1000 } });
  assert.equal(r.retval, 1080n);
  // no relocation, a context argument of the class's type
  r = await kit.fire(coll.program('by_argument'));
  assert.equal(r.retval, 7n);
  // nothing names the record, and the kernel has no such tracepoint (no btf_trace_tcp_unnamed_event):
  // the kit says Linux would not attach it, with libbpf's reason, and what to give to fire it anyway
  await assert.rejects(kit.fire(coll.program('unnamed')), (e: unknown) =>
    e instanceof TsbpfError && e.errno === 'ENOENT' &&
    /tcp\/tcp_unnamed_event is not a tracepoint of this kernel/.test(e.message) &&
    /failed to determine tracepoint 'tcp\/tcp_unnamed_event' perf event ID: No such file or directory/.test(e.message) &&
    /give the record type \(record\)/.test(e.message));
  r = await kit.fire(coll.program('unnamed'), { record: 'trace_event_raw_tcp_event_sk' });
  assert.equal(r.retval, 8n);
});

test('events: LINUX_KERNEL_VERSION is the shipped kernel\'s, the running kernel\'s for a given BTF (as libbpf), or the test\'s', async () => {
  const PROG = join(PROGS, 'kversion.o');
  {
    using kit = new TestKit();
    const coll = await kit.load(PROG);
    assert.equal((await kit.fire(coll.program('version'))).retval, BigInt(SHIPPED_KERNEL_VERSION));
    assert.equal(SHIPPED_KERNEL_VERSION, (6 << 16) | (12 << 8));
    // 6.12's block_rq_issue: the request is the first argument
    const rq = kit.model.object('request', { __data_len: 4096 });
    assert.equal((await kit.fire(coll.program('issue'), { args: [rq] })).retval, 4096n);
  }
  {
    using kit = new TestKit({ kernelBtf: shippedKernelBtf() });
    const coll = await kit.load(PROG, { programs: ['version'] });
    const want = process.platform === 'linux' ? kernelVersionCode(release()) : SHIPPED_KERNEL_VERSION;
    assert.equal((await kit.fire(coll.program('version'))).retval, BigInt(want));
  }
  {
    // a 5.10 kernel: the program reads ctx[1], past tp_btf/block_rq_issue's one argument, which the verifier refuses
    using kit = new TestKit({ kconfig: { LINUX_KERNEL_VERSION: (5 << 16) | (10 << 8) } });
    const coll = await kit.load(PROG, { programs: ['version'] });
    assert.equal((await kit.fire(coll.program('version'))).retval, BigInt((5 << 16) | (10 << 8)));
    await assert.rejects(kit.load(PROG, { programs: ['issue'] }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EACCES');
  }
});

test('events: a .rodata constant past the value\'s start is judged at its own offset (biolatency\'s targ_single)', async () => {
  using kit = new TestKit();
  // single (offset 12) is 1: the verifier must see ctx[1] as dead; first (offset 0) is 0 and would make it live
  const coll = await kit.load(join(PROGS, 'rodata_off.o'));
  const p = kit.model.object('task_struct', { pid: 40 });
  // third (offset 8) is 7 at run time too
  assert.equal((await kit.fire(coll.program('wakeup'), { args: [p] })).retval, 47n);
});
