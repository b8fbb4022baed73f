/**
 * The helpers of tracing programs that read the kernel itself
 * (kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c, kernel/bpf/helpers.c),
 * answered from the kernel a test kit models (env.ts HelperKernel,
 * src/testing): the current task_struct, its cgroup, the event's call
 * chain, perf counters, and the calls whose effect lies outside the
 * program (signals), which the kit records for the test to assert on.
 *
 * They are not in the default registry: a runtime without a modelled kernel
 * has no task_struct to point at, and keeps refusing them at load
 * (helpers/index.ts unknownHelper). The kit registers them
 * (src/testing/kit.ts).
 */
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { err, inSpace, runOf, u32, type HelperKernel, type PerfCounter } from './env.js';
import { mapArg } from './maps.js';
import { PT_REGS } from '../uapi/ctx.js';
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK } from './perf.js';
import {
  BPF_F_SKIP_FIELD_MASK,
  BPF_F_USER_BUILD_ID,
  BPF_F_USER_STACK,
  BUILD_ID_ENTRY_SIZE,
  stackMaxDepth,
  writeBuildIdEntries,
} from '../uapi/stack-trace.js';

/** sizeof(struct bpf_perf_event_value) */
const PERF_EVENT_VALUE_SIZE = 24;
/** _NSIG: valid_signal() */
const NSIG = 64;

function kernelOf(env: ExecEnv): HelperKernel {
  const k = runOf(env).host.kernel;
  // The kit registers these helpers only together with its kernel; another host reaching here is its own error.
  if (!k) throw new TypeError('a tracing helper ran on a host without a modelled kernel (HelperHost.kernel)');
  return k;
}

/**
 * __bpf_get_stack: copy the call chain (after `skip` frames) into buf, zero
 * the rest; the bytes copied or -errno with buf zeroed. With `task`
 * (bpf_get_task_stack), that task's chains: its user stack only when it is
 * the current task and has user registers (a kernel thread has none:
 * -EFAULT; another task's: -EOPNOTSUPP, as get_perf_callchain cannot walk
 * it).
 */
function getStack(env: ExecEnv, buf: bigint, size: number, flags: bigint, task?: bigint): bigint {
  if (!inSpace(env, buf, size)) return err('EFAULT');
  const b = Number(buf);
  const u8 = env.space.u8;
  const fail = (e: 'EINVAL' | 'EFAULT' | 'EOPNOTSUPP'): bigint => {
    u8.fill(0, b, b + size);
    return err(e);
  };
  if (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) return fail('EINVAL');
  const user = (flags & BPF_F_USER_STACK) !== 0n;
  const buildId = (flags & BPF_F_USER_BUILD_ID) !== 0n;
  if (!user && buildId) return fail('EINVAL');
  const elem = buildId ? BUILD_ID_ENTRY_SIZE : 8;
  if (size % elem) return fail('EINVAL');
  let chain: readonly bigint[];
  if (task === undefined) chain = kernelOf(env).stack(user);
  else {
    const t = kernelOf(env).taskStack(task);
    if (user && t.kthread) return fail('EFAULT');
    if (user && !t.current) return fail('EOPNOTSUPP');
    chain = user ? t.user : t.kernel;
  }
  const skip = Number(flags & BPF_F_SKIP_FIELD_MASK);
  chain = chain.slice(0, stackMaxDepth(size, elem, skip));
  if (chain.length < skip) return fail('EFAULT');
  const ips = chain.slice(skip, skip + size / elem);
  if (buildId) writeBuildIdEntries(env.space.view, b, ips);
  else for (let i = 0; i < ips.length; i++) env.space.writeU64(b + i * 8, BigInt.asUintN(64, ips[i]!));
  const copied = ips.length * elem;
  u8.fill(0, b + copied, b + size);
  return BigInt(copied);
}

/** bpf_get_stackid: the event's chain (BPF_F_USER_STACK picks which) stored in a stack_trace map; its id or -errno. */
function getStackId(env: ExecEnv, mapAddr: bigint, flags: bigint): bigint {
  const m = mapArg(env, mapAddr);
  // The verifier lets only stack_trace maps reach here (check_map_func_compatibility).
  if (!m.stackId) throw new TypeError(`bpf_get_stackid on a ${m.type} map`);
  return BigInt(m.stackId(kernelOf(env).stack((flags & BPF_F_USER_STACK) !== 0n), flags));
}

/** struct bpf_perf_event_value: counter, enabled, running (u64 each) */
function writePerfValue(env: ExecEnv, at: number, c: PerfCounter): void {
  env.space.writeU64(at, BigInt.asUintN(64, c.counter));
  env.space.writeU64(at + 8, BigInt.asUintN(64, c.enabled));
  env.space.writeU64(at + 16, BigInt.asUintN(64, c.running));
}

/** bpf_perf_event_read(_value)'s slot: flags select the index (or this CPU's); other bits are -EINVAL, past the end -E2BIG. */
function perfSlot(env: ExecEnv, mapAddr: bigint, flags: bigint): { map: number; index: number } | bigint {
  if (flags & ~BPF_F_INDEX_MASK) return err('EINVAL');
  const m = mapArg(env, mapAddr);
  let index = Number(flags & BPF_F_INDEX_MASK);
  if (flags === BPF_F_CURRENT_CPU) index = env.cpu;
  if (index >= m.maxEntries) return err('E2BIG');
  return { map: m.addr, index };
}

/**
 * bpf_send_signal_common: init (the global init task, pid 1) may not be
 * signalled (-EPERM), sig must pass valid_signal (-EINVAL); then the signal
 * goes to the current task, which the kit records.
 */
function sendSignal(env: ExecEnv, sig: number, thread: boolean): bigint {
  const t = runOf(env).host.task;
  if (t.tgid === 1) return err('EPERM');
  if (sig > NSIG) return err('EINVAL');
  kernelOf(env).record(thread ? 'send_signal_thread' : 'send_signal', { sig, pid: t.pid, tgid: t.tgid });
  return 0n;
}

/** bpf_current_task_under_cgroup: -E2BIG past the array, -EAGAIN for an empty slot, else 1 if the current task is in the slot's cgroup or below it. */
function currentTaskUnderCgroup(env: ExecEnv, mapAddr: bigint, index: number): bigint {
  const m = mapArg(env, mapAddr);
  // The verifier lets only cgroup_array maps reach here (check_map_func_compatibility).
  if (!m.cgroupAt) throw new TypeError(`bpf_current_task_under_cgroup on a ${m.type} map`);
  if (index >= m.maxEntries) return err('E2BIG');
  const id = m.cgroupAt(index);
  if (id === undefined) return err('EAGAIN');
  return kernelOf(env).underCgroup(id) ? 1n : 0n;
}

/** sizeof(struct bpf_pidns_info): pid and tgid, u32 each */
const PIDNS_INFO_SIZE = 8;

/**
 * bpf_get_ns_current_pid_tgid: the current task's pid and tgid as its pid
 * namespace sees them, if that namespace is the one (dev, ino) names
 * (ns_match); otherwise -EINVAL with the buffer zeroed, as for a size other
 * than struct bpf_pidns_info's or a dev that is not a dev_t (u32).
 */
function nsCurrentPidTgid(env: ExecEnv, dev: bigint, ino: bigint, buf: bigint, size: number): bigint {
  if (!inSpace(env, buf, size)) return err('EFAULT');
  const b = Number(buf);
  const ns = kernelOf(env).pidNamespace();
  if (size !== PIDNS_INFO_SIZE || dev !== BigInt.asUintN(32, dev) || dev !== ns.dev || ino !== ns.ino) {
    env.space.u8.fill(0, b, b + size);
    return err('EINVAL');
  }
  env.space.view.setUint32(b, ns.pid, true);
  env.space.view.setUint32(b + 4, ns.tgid, true);
  return 0n;
}

/**
 * bpf_get_func_ip (bpf_get_func_ip_kprobe, _tracing): the address of the
 * function the program is attached to, for kretprobes and fexit too (not
 * the return address). A test kit answers from its symbol table (the
 * program's target); tsbpf's own probes (src/hooks, enableProbeHelpers)
 * keep the probed function's address in regs->ip.
 */
export const getFuncIp: HelperDef = helper(BPF_FUNC.get_func_ip, (env) => {
  const run = runOf(env);
  const k = run.host.kernel;
  return k ? k.funcIp() : env.space.readU64(run.ctx + PT_REGS.rip);
});

/** The bpf_skc_to_* casts of tracing programs, by the type each casts to (net/core/filter.c; skc_to_mptcp_sock takes no BTF pointer). */
const SKC_TO = [
  [BPF_FUNC.skc_to_tcp6_sock, 'tcp6_sock'],
  [BPF_FUNC.skc_to_tcp_sock, 'tcp_sock'],
  [BPF_FUNC.skc_to_tcp_timewait_sock, 'tcp_timewait_sock'],
  [BPF_FUNC.skc_to_tcp_request_sock, 'tcp_request_sock'],
  [BPF_FUNC.skc_to_udp6_sock, 'udp6_sock'],
  [BPF_FUNC.skc_to_unix_sock, 'unix_sock'],
] as const;

export const tracingHelpers: HelperDef[] = [
  helper(BPF_FUNC.get_current_task, (env) => kernelOf(env).currentTask()),
  // the same task as a BTF pointer: its loads are BPF_PROBE_MEM loads of the model (memory/probe-mem.ts)
  helper(BPF_FUNC.get_current_task_btf, (env) => kernelOf(env).currentTask()),
  helper(BPF_FUNC.get_current_cgroup_id, (env) => kernelOf(env).cgroupId()),
  // cgroup_ancestor(task_dfl_cgroup(current), level): an int level; a negative one, or one past the cgroup's own, has no ancestor (0)
  helper(BPF_FUNC.get_current_ancestor_cgroup_id, (env, r1) => {
    const level = Number(BigInt.asIntN(32, r1));
    return level < 0 ? 0n : kernelOf(env).ancestorCgroupId(level);
  }),
  helper(BPF_FUNC.current_task_under_cgroup, (env, r1, r2) => currentTaskUnderCgroup(env, r1, u32(r2))),
  helper(BPF_FUNC.get_ns_current_pid_tgid, (env, r1, r2, r3, r4) => nsCurrentPidTgid(env, r1, r2, r3, u32(r4))),
  // the cookie of the attachment that runs the program (bpf_get_attach_cookie_kprobe, _trace, _pe, _tracing alike)
  helper(BPF_FUNC.get_attach_cookie, (env) => kernelOf(env).attachCookie()),
  helper(BPF_FUNC.get_stack, (env, _ctx, r2, r3, r4) => getStack(env, r2, u32(r3), r4)),
  helper(BPF_FUNC.get_stackid, (env, _ctx, r2, r3) => getStackId(env, r2, r3)),
  helper(BPF_FUNC.get_task_stack, (env, r1, r2, r3, r4) => getStack(env, r2, u32(r3), r4, r1)),
  // bpf_get_socket_ptr_cookie: the tracing programs' form, on a `struct sock *` (the socket hooks' take their context)
  helper(BPF_FUNC.get_socket_cookie, (env, r1) => kernelOf(env).socketCookie(r1)),
  ...SKC_TO.map(([id, kind]) => helper(id, (env, r1) => kernelOf(env).skcTo(kind, r1))),
  helper(BPF_FUNC.perf_event_read, (env, r1, r2) => {
    const slot = perfSlot(env, r1, r2);
    if (typeof slot === 'bigint') return slot;
    const c = kernelOf(env).perfCounter(slot.map, slot.index);
    return c ? BigInt.asUintN(64, c.counter) : err('ENOENT');
  }),
  helper(BPF_FUNC.perf_event_read_value, (env, r1, r2, r3, r4) => {
    const size = u32(r4);
    if (!inSpace(env, r3, size)) return err('EFAULT');
    const b = Number(r3);
    const fail = (e: bigint): bigint => {
      env.space.u8.fill(0, b, b + size);
      return e;
    };
    if (size !== PERF_EVENT_VALUE_SIZE) return fail(err('EINVAL'));
    const slot = perfSlot(env, r1, r2);
    if (typeof slot === 'bigint') return fail(slot);
    const c = kernelOf(env).perfCounter(slot.map, slot.index);
    if (!c) return fail(err('ENOENT'));
    writePerfValue(env, b, c);
    return 0n;
  }),
  // bpf_perf_prog_read_value: the counts of the perf event whose sample runs the program (perf_event_read_local(ctx->event))
  helper(BPF_FUNC.perf_prog_read_value, (env, _ctx, r2, r3) => {
    const size = u32(r3);
    if (!inSpace(env, r2, size)) return err('EFAULT');
    const b = Number(r2);
    if (size !== PERF_EVENT_VALUE_SIZE) {
      env.space.u8.fill(0, b, b + size);
      return err('EINVAL');
    }
    writePerfValue(env, b, kernelOf(env).sampleCounter());
    return 0n;
  }),
  helper(BPF_FUNC.send_signal, (env, r1) => sendSignal(env, u32(r1), false)),
  helper(BPF_FUNC.send_signal_thread, (env, r1) => sendSignal(env, u32(r1), true)),
];
