/**
 * Socket filters and tc classifiers/actions: the context is
 * `struct __sk_buff` (include/uapi/linux/bpf.h). The rules follow
 * net/core/filter.c: bpf_skb_is_valid_access for the common part,
 * sk_filter_is_valid_access (no packet pointers, only cb[] writable) and
 * tc_cls_act_is_valid_access (packet pointers; mark, tc_index, priority,
 * tc_classid, cb[], tstamp and queue_mapping writable).
 */
import { SK_BUFF } from '../../uapi/ctx.js';
import { narrowOk, type CtxAccessQuery, type CtxField, type ProgTypeRules } from './index.js';


const B = SK_BUFF;
/** [start, end) of a field, as bpf_ctx_range covers every byte of it. */
const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

/** bpf_skb_is_valid_access: the rules every __sk_buff program type shares (lwt.ts uses them too). */
export function skbValid(q: CtxAccessQuery): CtxField | null {
  const { off, size, write, signExtend } = q;
  if (off < 0 || off >= B.size || off % size !== 0) return null;
  if (within(off, B.cb, 20)) return off + size > B.cb + 20 ? null : 'scalar';
  if (within(off, B.data, 4) || within(off, B.data_meta, 4) || within(off, B.data_end, 4)) {
    if (signExtend || size !== 4) return null;
    return off === B.data ? 'pkt' : off === B.data_end ? 'pkt_end' : 'pkt_meta';
  }
  if (within(off, B.remote_ip6, 16) || within(off, B.local_ip6, 16) || within(off, B.remote_ip4, 4) || within(off, B.local_ip4, 4))
    return size === 4 ? 'scalar' : null;
  if (within(off, B.flow_keys, 8)) return null;
  if (within(off, B.hwtstamp, 8)) return write || size !== 8 ? null : 'scalar';
  if (within(off, B.tstamp, 8)) return size === 8 ? 'scalar' : null;
  // The socket pointer is a PTR_TO_SOCK_COMMON_OR_NULL in the kernel; tsbpf has no sockets, so it
  // reads as a number marked as a socket (using it as one is then refused as unsupported).
  if (within(off, B.sk, 8)) return write || size !== 8 ? null : 'sock';
  if (off === B.tstamp_type) return null;
  if (off > B.tstamp_type && off < B.hwtstamp) return null;
  if (write) return size === 4 ? 'scalar' : null;
  return narrowOk(size, 4) ? 'scalar' : null;
}

export const SOCKET_FILTER: ProgTypeRules = {
  name: 'socket_filter',
  ctxSize: B.size,
  ldAbs: true,
  pktWrite: false,
  unprivileged: true,
  ctxAccess(q) {
    const { off, write } = q;
    if (within(off, B.tc_classid, 4) || within(off, B.data, 4) || within(off, B.data_meta, 4) || within(off, B.data_end, 4) ||
      (off >= B.family && off < B.local_port + 4) || within(off, B.tstamp, 8) || within(off, B.wire_len, 4) || within(off, B.hwtstamp, 8))
      return null;
    if (write && !within(off, B.cb, 20)) return null;
    return skbValid(q);
  },
};

function tcAccess(q: CtxAccessQuery): CtxField | null {
  const { off, size, write } = q;
  if (write) {
    const ok = within(off, B.mark, 4) || within(off, B.tc_index, 4) || within(off, B.priority, 4) || within(off, B.tc_classid, 4) ||
      within(off, B.cb, 20) || within(off, B.tstamp, 8) || within(off, B.queue_mapping, 4);
    if (!ok) return null;
  }
  if (off >= B.family && off < B.local_port + 4) return null;
  if (off === B.tstamp_type) return size === 1 ? 'scalar' : null;
  return skbValid(q);
}

export const SCHED_CLS: ProgTypeRules = { name: 'sched_cls', ctxSize: B.size, ldAbs: true, pktWrite: true, unprivileged: false, ctxAccess: tcAccess };
export const SCHED_ACT: ProgTypeRules = { ...SCHED_CLS, name: 'sched_act' };

/**
 * cgroup skb programs (cg_skb_is_valid_access): no tc_classid, data_meta or
 * wire_len; packet pointers for privileged loaders only; mark, priority and
 * cb[] writable (tstamp too when privileged); the return value is 0 (drop)
 * or 1 (allow).
 */
export const CGROUP_SKB: ProgTypeRules = {
  name: 'cgroup_skb',
  ctxSize: B.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: true,
  retRange: [0, 1],
  ctxAccess(q) {
    const { off, write, privileged } = q;
    if (within(off, B.tc_classid, 4) || within(off, B.data_meta, 4) || within(off, B.wire_len, 4)) return null;
    if ((within(off, B.data, 4) || within(off, B.data_end, 4)) && !privileged) return null;
    if (write) {
      const ok = within(off, B.mark, 4) || within(off, B.priority, 4) || within(off, B.cb, 20) || (within(off, B.tstamp, 8) && privileged);
      if (!ok) return null;
    }
    return skbValid(q);
  },
};
