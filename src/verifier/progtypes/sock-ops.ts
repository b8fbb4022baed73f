/**
 * sock_ops programs (BPF_PROG_TYPE_SOCK_OPS, the TCP callbacks): the context
 * is `struct bpf_sock_ops` (include/uapi/linux/bpf.h). The rules follow
 * net/core/filter.c sock_ops_is_valid_access:
 * - only `reply` (offset 4, a whole u32) and sk_txhash are writable;
 * - bytes_received, bytes_acked and skb_hwtstamp are u64 reads;
 * - skb_data / skb_data_end are the packet pointers (u64 reads of the
 *   skb's headers; read-only, may_access_direct_pkt_data has no sock_ops);
 * - skb_tcp_flags reads narrowly at its start, every other field as a whole
 *   u32;
 * - `sk` is a PTR_TO_SOCKET_OR_NULL: refused as unsupported (tsbpf has no
 *   sockets).
 * The return value is 0 or 1 (check_return_code's default). No test run in
 * Linux nor a hook in tsbpf: loaded, verified, not run.
 */
import { BPF_SOCK_OPS } from '../../uapi/ctx.js';
import { narrowOk, type ProgTypeRules } from './index.js';


const O = BPF_SOCK_OPS;
const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

export const SOCK_OPS: ProgTypeRules = {
  name: 'sock_ops',
  ctxSize: O.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess({ off, size, write, signExtend }) {
    if (off < 0 || off >= O.size || off % size !== 0) return null;
    if (write) return (off === O.reply || off === O.sk_txhash) && size === 4 ? 'scalar' : null;
    if (within(off, O.bytes_received, 16) || within(off, O.skb_hwtstamp, 8)) return size === 8 ? 'scalar' : null;
    if (within(off, O.sk, 8)) return size === 8 ? 'sock_or_null' : null;
    if (within(off, O.skb_data, 8)) return size === 8 && !signExtend ? 'pkt' : null;
    if (within(off, O.skb_data_end, 8)) return size === 8 && !signExtend ? 'pkt_end' : null;
    if (off === O.skb_tcp_flags) return narrowOk(size, 4) ? 'scalar' : null;
    return size === 4 ? 'scalar' : null;
  },
};
