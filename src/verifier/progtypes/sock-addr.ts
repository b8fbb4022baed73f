/**
 * cgroup sock_addr programs (BPF_PROG_TYPE_CGROUP_SOCK_ADDR: bind, connect,
 * sendmsg, recvmsg, getpeername, getsockname hooks): the context is
 * `struct bpf_sock_addr` (include/uapi/linux/bpf.h). The rules follow
 * net/core/filter.c sock_addr_is_valid_access and kernel/bpf/verifier.c
 * check_return_code:
 * - the address fields belong to their family's hooks only: user_ip4 to the
 *   inet4 hooks, user_ip6 to the inet6 ones, msg_src_ip4/6 to udp4/udp6
 *   sendmsg;
 * - the address fields and user_port read at any power-of-two size up to 4
 *   (and 8 aligned inside user_ip6 / msg_src_ip6) and are written as whole
 *   u32 (or u64 inside the ip6 arrays);
 * - user_family, family, type and protocol are read-only u32;
 * - `sk` is a PTR_TO_SOCKET, read as a whole u64: tsbpf has no sockets, so
 *   reading it is refused as unsupported rather than judged wrongly;
 * - the return value: 1 for recvmsg/getpeername/getsockname (the hook
 *   cannot refuse), 0..3 for bind (bit 1 skips the port-range check), else
 *   0 or 1.
 *
 * tsbpf has no hook that runs these programs and Linux has no test run for
 * them (BPF_PROG_TEST_RUN gives ENOTSUPP), so the runtime loads them
 * verified and refuses to run them.
 */
import { BPF_SOCK_ADDR } from '../../uapi/ctx.js';
import { narrowOk, type CtxAccessQuery, type CtxField, type ProgTypeRules } from './index.js';


const A = BPF_SOCK_ADDR;
const within = (off: number, start: number, len: number): boolean => off >= start && off < start + len;

/** libbpf's expected attach type names (src/object/sections.ts) for each family's hooks. */
const INET4 = new Set(['cgroup_inet4_bind', 'cgroup_inet4_connect', 'cgroup_inet4_getpeername', 'cgroup_inet4_getsockname', 'cgroup_udp4_sendmsg', 'cgroup_udp4_recvmsg']);
const INET6 = new Set(['cgroup_inet6_bind', 'cgroup_inet6_connect', 'cgroup_inet6_getpeername', 'cgroup_inet6_getsockname', 'cgroup_udp6_sendmsg', 'cgroup_udp6_recvmsg']);
/** Hooks that cannot refuse the operation: the program must return 1. */
const MUST_ALLOW = new Set(['cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_unix_recvmsg', 'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername',
  'cgroup_unix_getpeername', 'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'cgroup_unix_getsockname']);

/** bpf_ctx_wide_access_ok: an aligned u64 wholly inside the `len`-byte array at `start`. */
const wideOk = (off: number, size: number, start: number, len: number): boolean => size === 8 && off >= start && off + 8 <= start + len && off % 8 === 0;

function sockAddrAccess(q: CtxAccessQuery): CtxField | null {
  const { off, size, write, attachType } = q;
  const at = attachType ?? '';
  if (off < 0 || off >= A.size || off % size !== 0) return null;
  // Fields that belong to one address family's hooks.
  if (within(off, A.user_ip4, 4) && !INET4.has(at)) return null;
  if (within(off, A.user_ip6, 16) && !INET6.has(at)) return null;
  if (within(off, A.msg_src_ip4, 4) && at !== 'cgroup_udp4_sendmsg') return null;
  if (within(off, A.msg_src_ip6, 16) && at !== 'cgroup_udp6_sendmsg') return null;
  if (within(off, A.user_ip4, 4) || within(off, A.user_ip6, 16) || within(off, A.msg_src_ip4, 4) || within(off, A.msg_src_ip6, 16) || within(off, A.user_port, 4)) {
    if (wideOk(off, size, A.user_ip6, 16) || wideOk(off, size, A.msg_src_ip6, 16)) return 'scalar';
    if (write) return size === 4 ? 'scalar' : null;
    return narrowOk(size, 4) ? 'scalar' : null;
  }
  if (within(off, A.sk, 8)) return write || size !== 8 ? null : 'sock_ptr';
  if (within(off, A.user_family, 4) || within(off, A.family, 4) || within(off, A.type, 4) || within(off, A.protocol, 4))
    return write || size !== 4 ? null : 'scalar';
  return null;
}

function retRangeFor(attachType: string | undefined): [number, number] {
  const at = attachType ?? '';
  if (MUST_ALLOW.has(at)) return [1, 1];
  if (at === 'cgroup_inet4_bind' || at === 'cgroup_inet6_bind') return [0, 3];
  return [0, 1];
}

export const CGROUP_SOCK_ADDR: ProgTypeRules = {
  name: 'cgroup_sock_addr',
  ctxSize: A.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess: sockAddrAccess,
  forAttach(attachType) {
    return { ...CGROUP_SOCK_ADDR, retRange: retRangeFor(attachType) };
  },
};
