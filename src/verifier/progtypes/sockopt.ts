/**
 * cgroup sockopt programs (BPF_PROG_TYPE_CGROUP_SOCKOPT: getsockopt and
 * setsockopt hooks): the context is `struct bpf_sockopt`
 * (include/uapi/linux/bpf.h). The rules follow kernel/bpf/cgroup.c
 * cg_sockopt_is_valid_access:
 * - optval / optval_end are the packet pointers over the option's buffer
 *   (u64 reads), readable and writable (may_access_direct_pkt_data);
 * - level, optname and optlen read as whole u32; retval belongs to
 *   getsockopt only;
 * - writes: optlen always, retval on getsockopt, level and optname on
 *   setsockopt (whole u32);
 * - `sk` is a PTR_TO_SOCKET: refused as unsupported (tsbpf has no sockets).
 * The return value is 0 or 1. No test run in Linux nor a hook in tsbpf:
 * loaded, verified, not run.
 */
import { BPF_SOCKOPT } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';


const S = BPF_SOCKOPT;

export const CGROUP_SOCKOPT: ProgTypeRules = {
  name: 'cgroup_sockopt',
  ctxSize: S.size,
  ldAbs: false,
  pktWrite: true,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess({ off, size, write, signExtend, attachType }) {
    if (off < 0 || off >= S.size || off % size !== 0) return null;
    const get = attachType === 'cgroup_getsockopt';
    const set = attachType === 'cgroup_setsockopt';
    if (write) {
      if (size !== 4) return null;
      if (off === S.retval) return get ? 'scalar' : null;
      if (off === S.level || off === S.optname) return set ? 'scalar' : null;
      return off === S.optlen ? 'scalar' : null;
    }
    if (off < S.optval) return size === 8 ? 'sock_ptr' : null;
    if (off < S.optval_end) return size === 8 && !signExtend ? 'pkt' : null;
    if (off < S.level) return size === 8 && !signExtend ? 'pkt_end' : null;
    if (off >= S.retval && !get) return null;
    return size === 4 ? 'scalar' : null;
  },
};
