/**
 * XDP: the context is `struct xdp_md` (include/uapi/linux/bpf.h), six
 * 32-bit fields. Every access is a whole aligned u32 read
 * (__is_valid_xdp_access); nothing is writable; egress_ifindex belongs to
 * devmap programs only. The return value is not range-checked: unknown
 * actions are treated as XDP_ABORTED at run time.
 */
import { XDP_MD } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';


export const XDP: ProgTypeRules = {
  name: 'xdp',
  ctxSize: XDP_MD.size,
  ldAbs: false,
  pktWrite: true,
  unprivileged: false,
  ctxAccess({ off, size, write, signExtend, attachType }) {
    // xdp_is_valid_access: egress_ifindex only for programs run by a devmap (BPF_XDP_DEVMAP)
    if (off === XDP_MD.egress_ifindex && attachType !== 'xdp_devmap') return null;
    if (write) return null;
    if (off < 0 || off >= XDP_MD.size || off % size !== 0 || size !== 4) return null;
    switch (off) {
      case XDP_MD.data: return signExtend ? null : 'pkt';
      case XDP_MD.data_end: return signExtend ? null : 'pkt_end';
      case XDP_MD.data_meta: return signExtend ? null : 'pkt_meta';
      default: return 'scalar';
    }
  },
};
