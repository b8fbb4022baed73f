/**
 * sk_msg programs (BPF_PROG_TYPE_SK_MSG, sockmap/sockhash msg verdicts): the
 * context is `struct sk_msg_md` (include/uapi/linux/bpf.h). The rules follow
 * net/core/filter.c sk_msg_is_valid_access: nothing is writable; data and
 * data_end are the packet pointers (whole u64 reads), the message may be
 * written through them (may_access_direct_pkt_data); the address fields,
 * ports and size read as whole u32; `sk` is a PTR_TO_SOCKET, refused as
 * unsupported (tsbpf has no sockets). No return-value check. No test run in
 * Linux nor a hook in tsbpf: loaded, verified, not run.
 */
import { SK_MSG_MD } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';


const M = SK_MSG_MD;

export const SK_MSG: ProgTypeRules = {
  name: 'sk_msg',
  ctxSize: M.end,
  ldAbs: false,
  pktWrite: true,
  unprivileged: false,
  ctxAccess({ off, size, write, signExtend }) {
    if (write || off < 0 || off >= M.end || off % size !== 0) return null;
    if (off < M.family) {
      // data (0..7) and data_end (8..15): whole u64 reads of the pointers
      if (size !== 8 || signExtend) return null;
      return off === M.data ? 'pkt' : 'pkt_end';
    }
    if (off >= M.sk) return size === 8 ? 'sock_ptr' : null;
    return size === 4 ? 'scalar' : null;
  },
};
