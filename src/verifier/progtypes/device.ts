/**
 * cgroup device programs (BPF_PROG_TYPE_CGROUP_DEVICE): the context is
 * `struct bpf_cgroup_dev_ctx` (access_type, major, minor; u32 each). The
 * rules follow kernel/bpf/cgroup.c cgroup_dev_is_valid_access: read-only;
 * access_type (the access bits << 16 | the device type) reads at 1, 2 or
 * 4 bytes, major and minor as whole u32. The return value is 0 (deny) or 1
 * (allow). No test run in Linux (ENOTSUPP), no hook in tsbpf: loaded,
 * verified, not run.
 */
import { BPF_CGROUP_DEV_CTX } from '../../uapi/ctx.js';
import { narrowOk, type ProgTypeRules } from './index.js';


export const CGROUP_DEVICE: ProgTypeRules = {
  name: 'cgroup_device',
  ctxSize: BPF_CGROUP_DEV_CTX.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess({ off, size, write }) {
    if (write || off < 0 || off + size > BPF_CGROUP_DEV_CTX.size || off % size !== 0) return null;
    if (off < BPF_CGROUP_DEV_CTX.major) return narrowOk(size, 4) ? 'scalar' : null;
    return size === 4 ? 'scalar' : null;
  },
};
