/**
 * Sockets and task stacks of the kernel model, as tracing programs' helpers
 * see them (src/testing/sockets.ts, src/helpers/tracing.ts):
 * bpf_get_socket_cookie on a tp_btf `struct sock *` (tcppktlat), the
 * bpf_skc_to_* casts, bpf_get_task_stack on a task of the model (offcputime).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { ModelSockets } from '../src/testing/sockets.js';
import { TsbpfError } from '../src/errors.js';
import type { Collection } from '../src/runtime/index.js';
import type { KernelObject } from '../src/testing/model.js';
import { tracingHelpers } from '../src/helpers/tracing.js';
import { BPF_FUNC } from '../src/uapi/helper-ids.js';
import { BPF_F_USER_STACK } from '../src/uapi/stack-trace.js';

const PROG = join(ROOT, 'test/testing-progs/sockets.o');
const slot = (coll: Collection, i: number): bigint => ((b) => new DataView(b.buffer, b.byteOffset))(coll.map('seen').get(i) as Uint8Array).getBigUint64(0, true);
const AF_INET = 2;
const AF_INET6 = 10;
const AF_UNIX = 1;
const TCP_ESTABLISHED = 1;
const TCP_TIME_WAIT = 6;
const TCP_NEW_SYN_RECV = 12;

test('sockets: bpf_get_socket_cookie gives a socket its cookie once and keeps it in sk_cookie', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG, { programs: ['cookie'] });
  const a = kit.model.object('sock', { __sk_common: { skc_family: AF_INET }, sk_protocol: 6 });
  const b = kit.model.object('sock', { __sk_common: { skc_family: AF_INET } });
  await kit.fire(coll.program('cookie'), { args: [a] });
  assert.equal(slot(coll, 0), 1n);
  assert.equal(slot(coll, 1), 1n);
  // the kernel wrote it into the socket: a program reading sk->__sk_common.skc_cookie sees it too
  assert.equal(a.get('__sk_common.skc_cookie'), 1n);
  await kit.fire(coll.program('cookie'), { args: [b] });
  assert.equal(slot(coll, 0), 2n);
  await kit.fire(coll.program('cookie'), { args: [a] });
  assert.equal(slot(coll, 0), 1n);
  // a socket that already has one (given by the test) keeps it
  const c = kit.model.object('sock', { __sk_common: { skc_cookie: 0xabcdn } });
  await kit.fire(coll.program('cookie'), { args: [c] });
  assert.equal(slot(coll, 0), 0xabcdn);
  // NULL: 0, as bpf_get_socket_ptr_cookie answers
  await kit.fire(coll.program('cookie'), { args: [0] });
  assert.equal(slot(coll, 0), 0n);
  // a pointer the model does not hold is the test's mistake, said so
  await assert.rejects(kit.fire(coll.program('cookie'), { args: [0x7000_0000] }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EFAULT' && /not a struct sock of the kernel model/.test(e.message));
});

test('sockets: the bpf_skc_to_* casts answer from the socket fields as net/core/filter.c does', () => {
  using kit = new TestKit();
  const s = new ModelSockets(kit.model, (n) => kit.symbol(n));
  const sk = (common: Record<string, number | bigint>, rest: Record<string, number> = {}): bigint => kit.model.object('sock', { __sk_common: common, ...rest }).ptr;
  const tcp4 = sk({ skc_family: AF_INET, skc_state: TCP_ESTABLISHED }, { sk_protocol: 6 });
  const tcp6 = sk({ skc_family: AF_INET6, skc_state: TCP_ESTABLISHED }, { sk_protocol: 6 });
  const udp6 = sk({ skc_family: AF_INET6, skc_state: 7 }, { sk_protocol: 17, sk_type: 2 });
  const unix = sk({ skc_family: AF_UNIX, skc_state: 7 });
  const tw = sk({ skc_family: AF_INET, skc_state: TCP_TIME_WAIT, skc_prot: kit.symbol('tcp_prot') }, { sk_protocol: 6 });
  const req = sk({ skc_family: AF_INET6, skc_state: TCP_NEW_SYN_RECV, skc_prot: kit.symbol('tcpv6_prot') }, { sk_protocol: 6 });
  assert.equal(s.skcTo('tcp_sock', tcp4), tcp4);
  assert.equal(s.skcTo('tcp6_sock', tcp4), 0n);
  assert.equal(s.skcTo('tcp6_sock', tcp6), tcp6);
  assert.equal(s.skcTo('udp6_sock', udp6), udp6);
  assert.equal(s.skcTo('tcp_sock', udp6), 0n);
  assert.equal(s.skcTo('unix_sock', unix), unix);
  assert.equal(s.skcTo('unix_sock', tcp4), 0n);
  // timewait and request sockets are not full sockets: no tcp_sock, but their own casts (by sk_prot)
  assert.equal(s.skcTo('tcp_sock', tw), 0n);
  assert.equal(s.skcTo('tcp_timewait_sock', tw), tw);
  assert.equal(s.skcTo('tcp_request_sock', tw), 0n);
  assert.equal(s.skcTo('tcp_request_sock', req), req);
  assert.equal(s.skcTo('tcp_timewait_sock', sk({ skc_state: TCP_TIME_WAIT })), 0n);
  assert.equal(s.skcTo('tcp_sock', 0n), 0n);
});

test('sockets: a tp_btf program casts a model socket with bpf_skc_to_* and reads the tcp_sock it gets', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG, { programs: ['casts'] });
  const tcp = kit.model.object('tcp_sock', { inet_conn: { icsk_inet: { sk: { __sk_common: { skc_family: AF_INET6, skc_state: TCP_ESTABLISHED }, sk_protocol: 6 } } }, srtt_us: 1234 });
  await kit.fire(coll.program('casts'), { args: [tcp] });
  assert.deepEqual([2, 3, 4].map((i) => slot(coll, i)), [1234n, 1n, 0n]);
  const unix = kit.model.object('sock', { __sk_common: { skc_family: AF_UNIX, skc_state: 7 } });
  await kit.fire(coll.program('casts'), { args: [unix] });
  assert.deepEqual([2, 3, 4].map((i) => slot(coll, i)), [BigInt.asUintN(64, -1n), 0n, 1n]);
});

/**
 * bpf_get_task_stack's run-time side, called as the engines call it (the
 * verifier's side, a task_struct argument, is judged elsewhere): the chains
 * the test gives per task, the event's for the current task, and the
 * kernel's refusals.
 */
test('task stacks: bpf_get_task_stack reports the chains a test gives per task, as __bpf_get_stack does', () => {
  using kit = new TestKit();
  const fn = tracingHelpers.find((h) => h.id === BPF_FUNC.get_task_stack)!.fn;
  const space = kit.runtime.space;
  const buf = space.alloc(32);
  const env = { space, cpu: 0, callFunc: () => 0n, run: { host: kit.runtime.host, progType: 'tracing', progName: 't', ctx: 0 } };
  const call = (task: KernelObject, flags = 0n): [bigint, bigint[]] => {
    const r = fn(env, task.ptr, BigInt(buf), 32n, flags, 0n);
    return [BigInt.asIntN(64, r), [0, 1, 2, 3].map((i) => space.readU64(buf + 8 * i))];
  };
  const other = kit.model.object('task_struct', { pid: 7, tgid: 7, comm: 'worker' });
  kit.setTaskStack(other, { kernel: [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n], user: [0x401000n] });
  assert.deepEqual(call(other), [24n, [0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n, 0n]]);
  // skip one frame (the flags' low byte)
  assert.deepEqual(call(other, 1n), [16n, [0xffffffff81000020n, 0xffffffff81000030n, 0n, 0n]]);
  // another task's user stack: get_perf_callchain cannot walk it
  assert.deepEqual(call(other, BPF_F_USER_STACK), [-95n, [0n, 0n, 0n, 0n]]);
  // the current task: the event's chains (setStack) unless given for it
  kit.setStack({ kernel: [0xffffffff81000100n], user: [0x402000n, 0x402100n] });
  assert.deepEqual(call(kit.task, BPF_F_USER_STACK), [16n, [0x402000n, 0x402100n, 0n, 0n]]);
  assert.deepEqual(call(kit.task), [8n, [0xffffffff81000100n, 0n, 0n, 0n]]);
  // a kernel thread has no user registers: -EFAULT
  const kthread = kit.model.object('task_struct', { pid: 2, tgid: 2, comm: 'kthreadd', flags: 0x00200000 });
  kit.setCurrent(kthread);
  assert.deepEqual(call(kthread, BPF_F_USER_STACK), [-14n, [0n, 0n, 0n, 0n]]);
  // skipping past the chain: -EFAULT; a task with none given: an empty chain
  assert.equal(call(other, 5n)[0], -14n);
  assert.deepEqual(call(kit.model.object('task_struct', { pid: 9 })), [0n, [0n, 0n, 0n, 0n]]);
  // a pointer that is no task of the model: the test's mistake, said so
  assert.throws(() => fn(env, 0x7000_0000n, BigInt(buf), 32n, 0n, 0n), (e: unknown) => e instanceof TsbpfError && e.errno === 'EFAULT');
});
