/**
 * union bpf_attr, encoded per command at the offsets of the kernel's UAPI
 * (include/uapi/linux/bpf.h of Linux 6.18; each offset below was checked
 * against offsetof() over the running kernel's vmlinux BTF). The buffer is
 * sizeof(union bpf_attr) of 6.18; an older kernel accepts a larger attr as
 * long as the bytes it does not know are zero (bpf_check_uarg_tail_zero),
 * which they are unless a newer field is used.
 *
 * Pointers in the attr are addresses of buffers the Attr keeps alive; every
 * buffer is made over its own ArrayBuffer, whose bytes V8 never moves.
 */
import type { Sys } from './ffi.js';

const ATTR_SIZE = 168;
/** BPF_OBJ_NAME_LEN */
const OBJ_NAME_LEN = 16;

/** A zeroed buffer over its own ArrayBuffer (a stable address for the kernel). */
export function nativeBuf(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(Math.max(n, 8)), 0, n);
}

export function cstr(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = nativeBuf(b.length + 1);
  out.set(b);
  return out;
}

export class Attr {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private readonly keep: Uint8Array[] = [];
  constructor(
    private readonly sys: Sys,
    size = ATTR_SIZE,
  ) {
    this.bytes = nativeBuf(size);
    this.dv = new DataView(this.bytes.buffer);
  }
  u32(off: number, v: number): this {
    this.dv.setUint32(off, v >>> 0, true);
    return this;
  }
  u64(off: number, v: bigint | number): this {
    this.dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  /** A pointer to `buf` (copied to a stable buffer unless it already is one) at `off`; returns the stable buffer. */
  ptr(off: number, buf: Uint8Array): Uint8Array {
    const b = buf.byteOffset === 0 && buf.buffer.byteLength >= buf.length && buf.buffer instanceof ArrayBuffer ? buf : copyOf(buf);
    this.keep.push(b);
    this.u64(off, buf.length === 0 ? 0n : this.sys.address(b));
    return b;
  }
  /** Keep `buf` alive as long as the attr (a buffer a pointer inside another buffer points to). */
  keepAlive(buf: Uint8Array): Uint8Array {
    this.keep.push(buf);
    return buf;
  }
  /** An object name (map_name, prog_name): at most 15 bytes and a NUL. */
  name(off: number, s: string): this {
    this.bytes.set(new TextEncoder().encode(s).subarray(0, OBJ_NAME_LEN - 1), off);
    return this;
  }
  getU32(off: number): number {
    return this.dv.getUint32(off, true);
  }
}

function copyOf(b: Uint8Array): Uint8Array {
  const out = nativeBuf(b.length);
  out.set(b);
  return out;
}

/** BPF_MAP_CREATE's fields (the anonymous struct at the head of the union). */
export const MAP_CREATE = {
  map_type: 0, key_size: 4, value_size: 8, max_entries: 12, map_flags: 16, inner_map_fd: 20, numa_node: 24,
  map_name: 28, map_ifindex: 44, btf_fd: 48, btf_key_type_id: 52, btf_value_type_id: 56, btf_vmlinux_value_type_id: 60, map_extra: 64,
} as const;
/** BPF_MAP_*_ELEM, BPF_MAP_GET_NEXT_KEY */
export const ELEM = { map_fd: 0, key: 8, value: 16, next_key: 16, flags: 24 } as const;
/** BPF_MAP_*_BATCH */
export const BATCH = { in_batch: 0, out_batch: 8, keys: 16, values: 24, count: 32, map_fd: 36, elem_flags: 40, flags: 48 } as const;
/** BPF_PROG_LOAD */
export const PROG_LOAD = {
  prog_type: 0, insn_cnt: 4, insns: 8, license: 16, log_level: 24, log_size: 28, log_buf: 32, kern_version: 40, prog_flags: 44,
  prog_name: 48, prog_ifindex: 64, expected_attach_type: 68, prog_btf_fd: 72, func_info_rec_size: 76, func_info: 80, func_info_cnt: 88,
  line_info_rec_size: 92, line_info: 96, line_info_cnt: 104, attach_btf_id: 108, attach_prog_fd: 112, fd_array: 120, log_true_size: 140,
} as const;
/** BPF_OBJ_PIN / BPF_OBJ_GET */
export const OBJ = { pathname: 0, bpf_fd: 8, file_flags: 12 } as const;
/** BPF_PROG_TEST_RUN (attr.test) */
export const TEST = {
  prog_fd: 0, retval: 4, data_size_in: 8, data_size_out: 12, data_in: 16, data_out: 24, repeat: 32, duration: 36,
  ctx_size_in: 40, ctx_size_out: 44, ctx_in: 48, ctx_out: 56, flags: 64, cpu: 68, batch_size: 72,
} as const;
/** BPF_*_GET_NEXT_ID / BPF_*_GET_FD_BY_ID */
export const ID = { start_id: 0, next_id: 4, open_flags: 8 } as const;
/** BPF_OBJ_GET_INFO_BY_FD (attr.info) */
export const INFO = { bpf_fd: 0, info_len: 4, info: 8 } as const;
/** BPF_RAW_TRACEPOINT_OPEN */
export const RAW_TP = { name: 0, prog_fd: 8, cookie: 16 } as const;
/** BPF_BTF_LOAD */
export const BTF_LOAD = { btf: 0, btf_log_buf: 8, btf_size: 16, btf_log_size: 20, btf_log_level: 24, btf_log_true_size: 28 } as const;
/** BPF_LINK_CREATE (attr.link_create) */
export const LINK_CREATE = {
  prog_fd: 0, target_fd: 4, target_ifindex: 4, attach_type: 8, flags: 12, target_btf_id: 16,
  perf_event_bpf_cookie: 16, tcx_relative_fd: 16, tcx_expected_revision: 24,
} as const;
/** BPF_LINK_CREATE for BPF_TRACE_KPROBE_MULTI (attr.link_create.kprobe_multi) */
export const KPROBE_MULTI = { flags: 16, cnt: 20, syms: 24, addrs: 32, cookies: 40 } as const;
/** BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI (attr.link_create.uprobe_multi) */
export const UPROBE_MULTI = { path: 16, offsets: 24, ref_ctr_offsets: 32, cookies: 40, cnt: 48, flags: 52, pid: 56 } as const;
/** BPF_PROG_ATTACH / BPF_PROG_DETACH */
export const PROG_ATTACH = { target_fd: 0, attach_bpf_fd: 4, attach_type: 8, attach_flags: 12, replace_bpf_fd: 16 } as const;

/** struct bpf_prog_info / bpf_map_info / bpf_link_info / bpf_btf_info (the fields `show` prints). */
export const PROG_INFO = {
  size: 232, type: 0, id: 4, tag: 8, jited_prog_len: 16, xlated_prog_len: 20, load_time: 40, created_by_uid: 48, nr_map_ids: 52,
  map_ids: 56, name: 64, ifindex: 80, gpl_compatible: 84, btf_id: 128, run_time_ns: 192, run_cnt: 200, recursion_misses: 208, verified_insns: 216,
} as const;
export const MAP_INFO = {
  size: 104, type: 0, id: 4, key_size: 8, value_size: 12, max_entries: 16, map_flags: 20, name: 24, ifindex: 40, btf_id: 64,
  btf_key_type_id: 68, btf_value_type_id: 72, map_extra: 80,
} as const;
export const LINK_INFO = { size: 64, type: 0, id: 4, prog_id: 8, u: 16 } as const;
export const BTF_INFO = { size: 32, btf: 0, btf_size: 8, id: 12, name: 16, name_len: 24, kernel_btf: 28 } as const;

/** enum bpf_attach_type values the backend uses. */
export const ATTACH_TYPE: Record<string, number> = {
  cgroup_inet_ingress: 0,
  cgroup_inet_egress: 1,
  cgroup_inet_sock_create: 2,
  cgroup_sock_ops: 3,
  sk_skb_stream_parser: 4,
  sk_skb_stream_verdict: 5,
  cgroup_device: 6,
  sk_msg_verdict: 7,
  cgroup_inet4_bind: 8,
  cgroup_inet6_bind: 9,
  cgroup_inet4_connect: 10,
  cgroup_inet6_connect: 11,
  cgroup_inet4_post_bind: 12,
  cgroup_inet6_post_bind: 13,
  cgroup_udp4_sendmsg: 14,
  cgroup_udp6_sendmsg: 15,
  lirc_mode2: 16,
  flow_dissector: 17,
  cgroup_sysctl: 18,
  cgroup_udp4_recvmsg: 19,
  cgroup_udp6_recvmsg: 20,
  cgroup_getsockopt: 21,
  cgroup_setsockopt: 22,
  trace_raw_tp: 23,
  trace_fentry: 24,
  trace_fexit: 25,
  modify_return: 26,
  lsm_mac: 27,
  trace_iter: 28,
  cgroup_inet4_getpeername: 29,
  cgroup_inet6_getpeername: 30,
  cgroup_inet4_getsockname: 31,
  cgroup_inet6_getsockname: 32,
  xdp_devmap: 33,
  cgroup_inet_sock_release: 34,
  xdp_cpumap: 35,
  sk_lookup: 36,
  xdp: 37,
  sk_skb_verdict: 38,
  sk_reuseport_select: 39,
  sk_reuseport_select_or_migrate: 40,
  perf_event: 41,
  trace_kprobe_multi: 42,
  lsm_cgroup: 43,
  struct_ops: 44,
  netfilter: 45,
  tcx_ingress: 46,
  tcx_egress: 47,
  trace_uprobe_multi: 48,
  cgroup_unix_connect: 49,
  cgroup_unix_sendmsg: 50,
  cgroup_unix_recvmsg: 51,
  cgroup_unix_getpeername: 52,
  cgroup_unix_getsockname: 53,
  netkit_primary: 54,
  netkit_peer: 55,
  trace_kprobe_session: 56,
};

/** enum bpf_link_type names, as bpftool prints them. */
export const LINK_TYPE_NAMES = ['unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi', 'struct_ops', 'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap'];
