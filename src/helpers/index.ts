/**
 * The helper registry: every helper tsbpf implements, by its kernel id
 * (enum bpf_func_id), with the prototype the verifier checks.
 */
import { TsbpfError } from '../errors.js';
import { HelperRegistry, type HelperDef } from './types.js';
import { mapHelpers } from './maps.js';
import { timeHelpers } from './time.js';
import { traceHelpers } from './trace.js';
import { randomHelpers } from './random.js';
import { taskHelpers } from './task.js';
import { probeHelpers } from './probe.js';
import { skbHelpers } from './skb.js';
import { xdpHelpers } from './xdp.js';
import { redirectHelpers } from './redirect.js';
import { ringbufHelpers } from './ringbuf.js';
import { perfHelpers } from './perf.js';
import { loopHelpers } from './loop.js';
import { stringHelpers } from './strings.js';
import { tailCallHelpers } from './tailcall.js';

export const ALL_HELPERS: readonly HelperDef[] = [
  ...mapHelpers, ...timeHelpers, ...traceHelpers, ...randomHelpers, ...taskHelpers, ...probeHelpers,
  ...skbHelpers, ...xdpHelpers, ...redirectHelpers, ...ringbufHelpers, ...perfHelpers, ...loopHelpers,
  ...stringHelpers, ...tailCallHelpers,
];

/** A fresh registry holding every helper tsbpf implements. */
export function defaultHelpers(): HelperRegistry {
  return new HelperRegistry(ALL_HELPERS);
}

/** Names of the kernel's helper ids tsbpf does not implement, for load-time errors. */
const KERNEL_NAMES: Record<number, string> = {
  13: 'clone_redirect', 17: 'get_cgroup_classid', 18: 'skb_vlan_push', 19: 'skb_vlan_pop', 22: 'perf_event_read',
  27: 'get_stackid', 31: 'skb_change_proto', 35: 'get_current_task', 36: 'probe_write_user', 38: 'skb_change_tail',
  39: 'skb_pull_data', 43: 'skb_change_head', 50: 'skb_adjust_room', 67: 'get_stack', 69: 'fib_lookup',
  93: 'spin_lock', 94: 'spin_unlock', 169: 'timer_init', 195: 'map_lookup_percpu_elem',
  196: 'dynptr_from_mem', 197: 'ringbuf_reserve_dynptr',
};

/** The error for a `call imm` whose helper the registry lacks (the kernel: "invalid func unknown#N"). */
export function unknownHelper(id: number, insnIndex: number): TsbpfError {
  const name = KERNEL_NAMES[id];
  return new TsbpfError(
    'EINVAL',
    name
      ? `insn ${insnIndex}: helper bpf_${name}#${id} is not supported by tsbpf`
      : `insn ${insnIndex}: invalid func unknown#${id}`,
  );
}

export type { HelperMap, HelperHost, HelperRun, HelperClock, TaskIdentity, TraceRecord, XdpPacket, SkbPacket, RedirectTarget } from './env.js';
