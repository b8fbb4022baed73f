/**
 * The helper registry: every helper tsbpf implements, by its kernel id
 * (enum bpf_func_id), with the prototype the verifier checks (the helper
 * catalog's, src/uapi/helpers.ts).
 */
import { TsbpfError } from '../errors.js';
import { HelperRegistry, type HelperDef } from '../vm/helper-abi.js';
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
import { dynptrHelpers } from './dynptr.js';
import { perfHelpers } from './perf.js';
import { loopHelpers } from './loop.js';
import { stringHelpers } from './strings.js';
import { tailCallHelpers } from './tailcall.js';
import { spinLockHelpers } from './spin-lock.js';

export const ALL_HELPERS: readonly HelperDef[] = [
  ...mapHelpers, ...timeHelpers, ...traceHelpers, ...randomHelpers, ...taskHelpers, ...probeHelpers,
  ...skbHelpers, ...xdpHelpers, ...redirectHelpers, ...ringbufHelpers, ...dynptrHelpers, ...perfHelpers, ...loopHelpers,
  ...stringHelpers, ...tailCallHelpers, ...spinLockHelpers,
];

/** A fresh registry holding every helper tsbpf implements. */
export function defaultHelpers(): HelperRegistry {
  return new HelperRegistry(ALL_HELPERS);
}

/**
 * The error for a `call imm` whose helper neither the registry nor the
 * helper catalog has: an id Linux does not define ("invalid func unknown#N",
 * as the kernel says). Helpers Linux defines that a runtime cannot run are
 * refused by the loader (runtime/loader.ts) with ENOTSUPP naming them.
 */
export function unknownHelper(id: number, insnIndex: number): TsbpfError {
  return new TsbpfError('EINVAL', `insn ${insnIndex}: invalid func unknown#${id}`);
}

export type { HelperMap, HelperHost, HelperRun, HelperClock, TaskIdentity, TraceRecord, XdpPacket, SkbPacket, RedirectTarget } from './env.js';
