/**
 * cgroup sysctl programs (BPF_PROG_TYPE_CGROUP_SYSCTL): the context is
 * `struct bpf_sysctl` (include/uapi/linux/bpf.h), two u32 fields. The rules
 * follow kernel/bpf/cgroup.c sysctl_is_valid_access: `write` is read-only
 * (1, 2 or 4 bytes), `file_pos` reads at 1, 2 or 4 bytes and is written as a
 * whole u32. The return value is 0 (refuse) or 1 (allow). The sysctl name
 * and values are reached through helpers (bpf_sysctl_get_name, ...). No
 * test run in Linux (ENOTSUPP), no hook in tsbpf: loaded, verified, not run.
 */
import { BPF_SYSCTL } from '../../uapi/ctx.js';
import { narrowOk, type ProgTypeRules } from './index.js';


export const CGROUP_SYSCTL: ProgTypeRules = {
  name: 'cgroup_sysctl',
  ctxSize: BPF_SYSCTL.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess({ off, size, write }) {
    if (off < 0 || off + size > BPF_SYSCTL.size || off % size !== 0) return null;
    if (off < BPF_SYSCTL.file_pos) return write ? null : narrowOk(size, 4) ? 'scalar' : null;
    if (write) return size === 4 ? 'scalar' : null;
    return narrowOk(size, 4) ? 'scalar' : null;
  },
};
