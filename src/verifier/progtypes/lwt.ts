/**
 * Lightweight-tunnel programs (BPF_PROG_TYPE_LWT_IN, LWT_OUT, LWT_XMIT): the
 * context is `struct __sk_buff`. The rules follow net/core/filter.c
 * lwt_is_valid_access: no tc_classid, socket-address fields (family ..
 * local_port), data_meta, tstamp, wire_len or hwtstamp; mark, priority and
 * cb[] are the only writable fields; data / data_end are the packet
 * pointers, readable by all three, writable only by lwt_xmit
 * (may_access_direct_pkt_data). No LD_ABS (may_access_skb), no return-value
 * check (check_return_code has no case for them).
 */
import { skbValid } from './skb.js';
import { SK_BUFF as B } from '../../uapi/ctx.js';
import type { CtxAccessQuery, CtxField, ProgTypeRules } from './index.js';

const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

function lwtAccess(q: CtxAccessQuery): CtxField | null {
  const { off, write } = q;
  if (within(off, B.tc_classid, 4) || (off >= B.family && off < B.local_port + 4) || within(off, B.data_meta, 4) ||
    within(off, B.tstamp, 8) || within(off, B.wire_len, 4) || within(off, B.hwtstamp, 8))
    return null;
  if (write && !(within(off, B.mark, 4) || within(off, B.priority, 4) || within(off, B.cb, 20))) return null;
  return skbValid(q);
}

export const LWT_IN: ProgTypeRules = { name: 'lwt_in', ctxSize: B.size, ldAbs: false, pktWrite: false, unprivileged: false, ctxAccess: lwtAccess };
export const LWT_OUT: ProgTypeRules = { ...LWT_IN, name: 'lwt_out' };
export const LWT_XMIT: ProgTypeRules = { ...LWT_IN, name: 'lwt_xmit', pktWrite: true };
