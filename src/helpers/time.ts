/**
 * Time helpers: bpf_ktime_get_ns (CLOCK_MONOTONIC), bpf_ktime_get_boot_ns
 * (CLOCK_BOOTTIME), bpf_ktime_get_coarse_ns (the tick-granular monotonic
 * clock), and bpf_jiffies64, read from the runtime's
 * clock (configurable, so tests can run on a fixed or stepped clock).
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { runOf } from './env.js';

export const timeHelpers: HelperDef[] = [
  helper(BPF_FUNC.ktime_get_ns, (env) => runOf(env).host.clock.monotonicNs()),
  helper(BPF_FUNC.ktime_get_boot_ns, (env) => runOf(env).host.clock.boottimeNs()),
  helper(BPF_FUNC.ktime_get_coarse_ns, (env) => runOf(env).host.clock.coarseNs()),
  helper(BPF_FUNC.jiffies64, (env) => runOf(env).host.clock.jiffies64()),
];
