/**
 * cgroup sock programs (BPF_PROG_TYPE_CGROUP_SOCK: sock_create,
 * sock_release, post_bind4, post_bind6): the context is `struct bpf_sock`
 * (include/uapi/linux/bpf.h). The rules follow net/core/filter.c
 * bpf_sock_is_valid_access (the common struct bpf_sock rules) and
 * __sock_filter_check_attach_type (which hook sees which field):
 * - bound_dev_if, mark and priority exist for sock_create/sock_release
 *   only, and are writable there (whole u32);
 * - src_ip4 belongs to post_bind4, src_ip6 to post_bind6, src_port to both;
 *   they are read-only;
 * - every other field is read-only; the addresses read at any power-of-two
 *   size up to 4, dst_port as its 2 bytes (or a whole u32), family, type,
 *   protocol, src_port, state and rx_queue_mapping narrowly at their first
 *   byte, the rest as a whole u32.
 * The return value is 0 (refuse) or 1 (allow). There is no test run in
 * Linux (ENOTSUPP) nor a hook in tsbpf: loaded, verified, not run.
 */
import { BPF_SOCK } from '../../uapi/ctx.js';
import { narrowOk, type CtxAccessQuery, type CtxField, type ProgTypeRules } from './index.js';


const S = BPF_SOCK;
const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

/** bpf_sock_is_valid_access: what any reader of a struct bpf_sock may read (writes are decided by the caller). */
export function bpfSockValid(off: number, size: number): boolean {
  if (off < 0 || off >= S.size || off % size !== 0) return false;
  switch (off) {
    case S.state: case S.family: case S.type: case S.protocol: case S.src_port: case S.rx_queue_mapping:
      return narrowOk(size, 4);
  }
  if (within(off, S.src_ip4, 4) || within(off, S.src_ip6, 16) || within(off, S.dst_ip4, 4) || within(off, S.dst_ip6, 16)) return narrowOk(size, 4);
  if (within(off, S.dst_port, 2)) return size === 4 ? true : narrowOk(size, 2);
  // the 16-bit padding after dst_port
  if (within(off, S.dst_port + 2, 2)) return false;
  return size === 4;
}

function sockAccess(q: CtxAccessQuery): CtxField | null {
  const { off, size, write, attachType } = q;
  if (!bpfSockValid(off, size)) return null;
  const at = attachType ?? '';
  // __sock_filter_check_attach_type: exact offsets for the three writable fields, ranges for the addresses
  if (off === S.bound_dev_if || off === S.mark || off === S.priority)
    return at === 'cgroup_inet_sock_create' || at === 'cgroup_inet_sock_release' ? 'scalar' : null;
  if (within(off, S.src_ip4, 4) && at !== 'cgroup_inet4_post_bind') return null;
  if (within(off, S.src_ip6, 16) && at !== 'cgroup_inet6_post_bind') return null;
  if (within(off, S.src_port, 4) && at !== 'cgroup_inet4_post_bind' && at !== 'cgroup_inet6_post_bind') return null;
  return write ? null : 'scalar';
}

export const CGROUP_SOCK: ProgTypeRules = {
  name: 'cgroup_sock',
  ctxSize: S.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess: sockAccess,
};
