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
import { err, inSpace, runOf, u32, type HelperKernel } from './env.js';
import { mapArg } from './maps.js';
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK } from './perf.js';

/** include/uapi/linux/bpf.h: bpf_get_stack flags */
const BPF_F_SKIP_FIELD_MASK = 0xffn;
const BPF_F_USER_STACK = 1n << 8n;
const BPF_F_USER_BUILD_ID = 1n << 11n;
/** sizeof(struct bpf_stack_build_id); status BPF_STACK_BUILD_ID_IP: no build id, the ip instead */
const BUILD_ID_ENTRY = 32;
const BPF_STACK_BUILD_ID_IP = 2;
/** sysctl kernel.perf_event_max_stack's default (PERF_MAX_STACK_DEPTH) */
const PERF_MAX_STACK_DEPTH = 127;
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

/** __bpf_get_stack: copy the call chain (after `skip` frames) into buf, zero the rest; the bytes copied or -errno with buf zeroed. */
function getStack(env: ExecEnv, buf: bigint, size: number, flags: bigint): bigint {
  if (!inSpace(env, buf, size)) return err('EFAULT');
  const b = Number(buf);
  const u8 = env.space.u8;
  const fail = (e: 'EINVAL' | 'EFAULT'): bigint => {
    u8.fill(0, b, b + size);
    return err(e);
  };
  if (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) return fail('EINVAL');
  const user = (flags & BPF_F_USER_STACK) !== 0n;
  const buildId = (flags & BPF_F_USER_BUILD_ID) !== 0n;
  if (!user && buildId) return fail('EINVAL');
  const elem = buildId ? BUILD_ID_ENTRY : 8;
  if (size % elem) return fail('EINVAL');
  const skip = Number(flags & BPF_F_SKIP_FIELD_MASK);
  const chain = kernelOf(env).stack(user).slice(0, Math.min(PERF_MAX_STACK_DEPTH, size / elem + skip));
  if (chain.length < skip) return fail('EFAULT');
  const ips = chain.slice(skip, skip + size / elem);
  for (let i = 0; i < ips.length; i++) {
    if (buildId) {
      const at = b + i * elem;
      u8.fill(0, at, at + elem);
      env.space.view.setInt32(at, BPF_STACK_BUILD_ID_IP, true);
      env.space.writeU64(at + 24, BigInt.asUintN(64, ips[i]!));
    } else env.space.writeU64(b + i * 8, BigInt.asUintN(64, ips[i]!));
  }
  const copied = ips.length * elem;
  u8.fill(0, b + copied, b + size);
  return BigInt(copied);
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

export const tracingHelpers: HelperDef[] = [
  helper(BPF_FUNC.get_current_task, (env) => kernelOf(env).currentTask()),
  // the same task as a BTF pointer: its loads are BPF_PROBE_MEM loads of the model (memory/probe-mem.ts)
  helper(BPF_FUNC.get_current_task_btf, (env) => kernelOf(env).currentTask()),
  helper(BPF_FUNC.get_current_cgroup_id, (env) => kernelOf(env).cgroupId()),
  helper(BPF_FUNC.get_stack, (env, _ctx, r2, r3, r4) => getStack(env, r2, u32(r3), r4)),
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
    env.space.writeU64(b, BigInt.asUintN(64, c.counter));
    env.space.writeU64(b + 8, BigInt.asUintN(64, c.enabled));
    env.space.writeU64(b + 16, BigInt.asUintN(64, c.running));
    return 0n;
  }),
  helper(BPF_FUNC.send_signal, (env, r1) => sendSignal(env, u32(r1), false)),
  helper(BPF_FUNC.send_signal_thread, (env, r1) => sendSignal(env, u32(r1), true)),
];
