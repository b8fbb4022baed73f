/**
 * Time helpers: bpf_ktime_get_ns (CLOCK_MONOTONIC), bpf_ktime_get_boot_ns
 * (CLOCK_BOOTTIME), bpf_ktime_get_coarse_ns (the tick-granular monotonic
 * clock), and bpf_jiffies64, read from the runtime's
 * clock (configurable, so tests can run on a fixed or stepped clock).
 */
import type { HelperDef } from './types.js';
import { helper } from './def.js';
import { runOf } from './env.js';

export const timeHelpers: HelperDef[] = [
  helper(5, 'ktime_get_ns', 'INTEGER', [], (env) => runOf(env).host.clock.monotonicNs()),
  helper(125, 'ktime_get_boot_ns', 'INTEGER', [], (env) => runOf(env).host.clock.boottimeNs()),
  helper(160, 'ktime_get_coarse_ns', 'INTEGER', [], (env) => runOf(env).host.clock.coarseNs()),
  helper(118, 'jiffies64', 'INTEGER', [], (env) => runOf(env).host.clock.jiffies64()),
];
