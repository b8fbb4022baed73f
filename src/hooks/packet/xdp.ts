/**
 * Running an xdp program on one frame, as a NIC driver does
 * (bpf_prog_run_xdp): the program sees the frame with the driver's
 * headroom, may move its bounds and rewrite it, and returns an action.
 */
import { TsbpfError } from '../../errors.js';
import type { Program } from '../../runtime/runtime.js';

export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;
export const XDP_ACTION_NAMES = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;

export interface XdpVerdict {
  /** the action; unknown return values count as XDP_ABORTED (bpf_warn_invalid_xdp_action) */
  action: number;
  /** the raw return value */
  retval: number;
  /** the frame after the program (its rewrites and head/tail adjustments) */
  data: Uint8Array;
  /** the redirect target, for XDP_REDIRECT */
  redirect?: { ifindex: number; map?: number; key?: number };
}

export function runXdp(p: Program, frame: Uint8Array): XdpVerdict {
  if (p.type !== 'xdp') throw new TsbpfError('EINVAL', `program ${p.name} is ${p.type}, not xdp`);
  const r = p.run({ data: frame });
  const action = r.retval <= XDP_REDIRECT ? r.retval : XDP_ABORTED;
  const v: XdpVerdict = { action, retval: r.retval, data: r.data ?? frame };
  if (r.redirect) v.redirect = { ifindex: r.redirect.ifindex, ...(r.redirect.map !== undefined ? { map: r.redirect.map } : {}), ...(r.redirect.key !== undefined ? { key: r.redirect.key } : {}) };
  return v;
}
