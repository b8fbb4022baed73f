/**
 * sk_skb programs (BPF_PROG_TYPE_SK_SKB: sockmap stream parser and verdict):
 * the context is `struct __sk_buff`. The rules follow net/core/filter.c
 * sk_skb_is_valid_access: no tc_classid, data_meta, tstamp, wire_len,
 * hwtstamp or mark; tc_index and priority are the writable fields; data and
 * data_end are the packet pointers, writable (may_access_direct_pkt_data);
 * the rest is bpf_skb_is_valid_access (skb.ts). No LD_ABS, no return-value
 * check. No test run in Linux nor a hook in tsbpf: loaded, verified, not run.
 */
import { skbValid } from './skb.js';
import { SK_BUFF as B } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';

const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

export const SK_SKB: ProgTypeRules = {
  name: 'sk_skb',
  ctxSize: B.size,
  ldAbs: false,
  pktWrite: true,
  unprivileged: false,
  ctxAccess(q) {
    const { off, write } = q;
    if (within(off, B.tc_classid, 4) || within(off, B.data_meta, 4) || within(off, B.tstamp, 8) || within(off, B.wire_len, 4) || within(off, B.hwtstamp, 8))
      return null;
    if (write && !(within(off, B.tc_index, 4) || within(off, B.priority, 4))) return null;
    if (within(off, B.mark, 4)) return null;
    return skbValid(q);
  },
};
