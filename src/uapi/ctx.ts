/**
 * The layouts of the program contexts, each once: byte offsets of the
 * fields of the structs a program's r1 points to (include/uapi/linux/bpf.h;
 * `struct pt_regs` from arch/x86/include/asm/ptrace.h, as tsbpf's kprobes
 * model x86-64). The verifier's access rules (src/verifier/progtypes), the
 * helpers that read or rewrite a context, the test runs and the hooks that
 * build one all read them here. `size` is sizeof(struct) unless the struct
 * has a field of that name (sk_msg_md: `end`).
 */

/** struct __sk_buff: socket filters, tc, cgroup skb, lwt, sk_skb, flow dissector */
export const SK_BUFF = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76,
  data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164,
  sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184, size: 192,
} as const;

/** struct xdp_md: six u32 fields */
export const XDP_MD = {
  data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20, size: 24,
} as const;

/** struct bpf_sock: cgroup sock programs, and the socket other contexts point to */
export const BPF_SOCK = {
  bound_dev_if: 0, family: 4, type: 8, protocol: 12, mark: 16, priority: 20, src_ip4: 24, src_ip6: 28, src_port: 44,
  dst_port: 48, dst_ip4: 52, dst_ip6: 56, state: 72, rx_queue_mapping: 76, size: 80,
} as const;

/** struct bpf_tcp_sock: what a PTR_TO_TCP_SOCK (bpf_tcp_sock) reads; u32 fields but two u64 counters, ending at icsk_retransmits */
export const BPF_TCP_SOCK = { bytes_received: 80, bytes_acked: 88, size: 112 } as const;

/** struct bpf_sock_addr: cgroup sock_addr programs (bind, connect, sendmsg, ...) */
export const BPF_SOCK_ADDR = {
  user_family: 0, user_ip4: 4, user_ip6: 8, user_port: 24, family: 28, type: 32, protocol: 36,
  msg_src_ip4: 40, msg_src_ip6: 44, sk: 64, size: 72,
} as const;

/** struct bpf_sock_ops: sock_ops programs */
export const BPF_SOCK_OPS = {
  op: 0, reply: 4, sk_txhash: 164, bytes_received: 168, bytes_acked: 176, sk: 184, skb_data: 192, skb_data_end: 200,
  skb_len: 208, skb_tcp_flags: 212, skb_hwtstamp: 216, size: 224,
} as const;

/** struct sk_msg_md: sk_msg programs (its `size` is a field; the struct ends at `end`) */
export const SK_MSG_MD = {
  data: 0, data_end: 8, family: 16, remote_ip4: 20, local_ip4: 24, remote_ip6: 28, local_ip6: 44,
  remote_port: 60, local_port: 64, size: 68, sk: 72, end: 80,
} as const;

/** struct bpf_sysctl: cgroup sysctl programs */
export const BPF_SYSCTL = { write: 0, file_pos: 4, size: 8 } as const;

/** struct bpf_sockopt: cgroup getsockopt/setsockopt programs */
export const BPF_SOCKOPT = { sk: 0, optval: 8, optval_end: 16, level: 24, optname: 28, optlen: 32, retval: 36, size: 40 } as const;

/** struct bpf_cgroup_dev_ctx: cgroup device programs */
export const BPF_CGROUP_DEV_CTX = { access_type: 0, major: 4, minor: 8, size: 12 } as const;

/** struct bpf_sk_lookup: sk_lookup programs (`pad`: the anonymous 16-bit zero padding after remote_port) */
export const BPF_SK_LOOKUP = {
  sk: 0, family: 8, protocol: 12, remote_ip4: 16, remote_ip6: 20, remote_port: 36, pad: 38,
  local_ip4: 40, local_ip6: 44, local_port: 60, ingress_ifindex: 64, size: 72,
} as const;

/** struct sk_reuseport_md: sk_reuseport programs (data, data_end, sk, migrating_sk: __bpf_md_ptr, 8 bytes each) */
export const SK_REUSEPORT_MD = {
  data: 0, data_end: 8, len: 16, eth_protocol: 20, ip_protocol: 24, bind_inany: 28, hash: 32, sk: 40, migrating_sk: 48, size: 56,
} as const;

/** struct bpf_flow_keys: what a flow dissector program fills (__sk_buff.flow_keys points to it) */
export const BPF_FLOW_KEYS = {
  nhoff: 0, thoff: 2, addr_proto: 4, is_frag: 6, is_first_frag: 7, is_encap: 8, ip_proto: 9, n_proto: 10,
  sport: 12, dport: 14, ipv4_src: 16, ipv4_dst: 20, ipv6_src: 16, ipv6_dst: 32, flags: 48, flow_label: 52, size: 56,
} as const;

/** sizeof(struct pt_regs) on x86-64: 21 u64 registers */
export const PT_REGS_SIZE = 168;
/** Offsets of the x86-64 struct pt_regs fields that carry arguments, the return value and the addresses. */
export const PT_REGS = { r9: 64, r8: 72, rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, rip: 128, rsp: 152 } as const;
