/**
 * Which program types may call a helper: the kernel's per-program-type
 * get_func_proto tables (net/core/filter.c, kernel/trace/bpf_trace.c,
 * kernel/bpf/cgroup.c, kernel/bpf/helpers.c bpf_base_func_proto), as
 * predicates the helper catalog (helpers.ts) names per helper. Root's view:
 * the privileged-only helpers are the catalog's `privileged` flag.
 *
 * Checked against the running Linux 6.18 for every helper id and the program
 * types that load without an attach target (a one-call program per pair:
 * "program of this type cannot use helper" means not available); tracing
 * (fentry/fexit, iterators) and lsm follow the sources (lsm: bpf_lsm_func_proto,
 * whose fallback is tracing_prog_func_proto, and cgroup_common_func_proto
 * first for lsm_cgroup).
 */
import type { ProgTypeName } from './bpf-types.js';

/** May a program of `type` (with expected attach type `attachType`) call the helper? */
export type ProgTypeFilter = (type: ProgTypeName, attachType?: string) => boolean;

/** bpf_base_func_proto: every program type falls back to it. */
export const ANY: ProgTypeFilter = () => true;
/** Offered to no program type by the oracle kernel (a config it is built without, or a program type tsbpf does not load). */
export const NONE: ProgTypeFilter = () => false;

const of = (...types: ProgTypeName[]): ProgTypeFilter => (t) => types.includes(t);
export const union = (...fs: ProgTypeFilter[]): ProgTypeFilter => (t, a) => fs.some((f) => f(t, a));

/** bpf_trace.c's program types, whose lookups end in bpf_tracing_func_proto (syscall goes through tracing_prog_func_proto). */
export const TRACING = of('kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event', 'tracing', 'syscall', 'lsm');
/** Program types whose lookups end in bpf_sk_base_func_proto (filter.c). */
export const NET = of('socket_filter', 'cgroup_skb', 'sched_cls', 'sched_act', 'xdp', 'cgroup_sock_addr', 'sock_ops', 'sk_msg',
  'sk_skb', 'flow_dissector', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local', 'sk_lookup');
/** tc_cls_act_func_proto */
export const TC = of('sched_cls', 'sched_act');
/** lwt_out_func_proto and the types that fall back to it (lwt_in, lwt_xmit, lwt_seg6local) */
export const LWT = of('lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local');
export const XDP = of('xdp');
export const SK_SKB = of('sk_skb');
export const SK_MSG = of('sk_msg');
export const SOCK_OPS = of('sock_ops');
export const PERF_EVENT = of('perf_event');
export const SK_REUSEPORT = of('sk_reuseport');
export const CGROUP_SKB = of('cgroup_skb');
export const CGROUP_SYSCTL = of('cgroup_sysctl');
/** bpf_syscall_func_proto (kernel/bpf/syscall.c) */
export const SYSCALL = of('syscall');
/** lirc_mode2_func_proto (drivers/media/rc/bpf-lirc.c) */
export const LIRC = of('lirc_mode2');
/** tc, and lwt_xmit_func_proto */
export const TC_LWT_XMIT = of('sched_cls', 'sched_act', 'lwt_xmit');
/** tc, and sk_skb_func_proto */
export const TC_SK_SKB = of('sched_cls', 'sched_act', 'sk_skb');
/** tc, lwt_xmit and sk_skb (skb_store_bytes, skb_change_head/tail) */
export const TC_LWT_XMIT_SK_SKB = of('sched_cls', 'sched_act', 'lwt_xmit', 'sk_skb');
/** tc and xdp_func_proto (fib_lookup, check_mtu) */
export const TC_XDP = of('sched_cls', 'sched_act', 'xdp');
/** tc, xdp and lwt_xmit (redirect) */
export const TC_XDP_LWT_XMIT = of('sched_cls', 'sched_act', 'xdp', 'lwt_xmit');
/** tc, xdp and every lwt type (csum_diff) */
export const TC_XDP_LWT = union(TC, XDP, LWT);
/** tc and every lwt type (get_route_realm, skb_under_cgroup, get_hash_recalc) */
export const TC_LWT = union(TC, LWT);
/** tc, sk_skb and every lwt type (skb_pull_data) */
export const TC_SK_SKB_LWT = union(TC, SK_SKB, LWT);
/** tc and cg_skb_func_proto (skb_cgroup_id, skb_ancestor_cgroup_id, skb_ecn_set_ce) */
export const TC_CGROUP_SKB = of('sched_cls', 'sched_act', 'cgroup_skb');
/** lwt_in_func_proto and lwt_xmit_func_proto (lwt_push_encap) */
export const LWT_IN_XMIT = of('lwt_in', 'lwt_xmit');
/** skb_load_bytes: tc, sk_filter_func_proto (socket filters; cgroup_skb falls back to it), lwt, sk_skb, flow_dissector, sk_reuseport */
export const SKB_LOAD_BYTES = union(TC, LWT, of('socket_filter', 'cgroup_skb', 'sk_skb', 'flow_dissector', 'sk_reuseport'));
/** skb_load_bytes_relative: sk_filter_func_proto, tc, cgroup_skb and sk_reuseport */
export const SKB_LOAD_BYTES_RELATIVE = of('socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'sk_reuseport');
/** get_socket_uid: sk_filter_func_proto, tc, cgroup_skb, sk_skb */
export const SOCKET_UID = of('socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'sk_skb');
/** ktime_get_coarse_ns: bpf_sk_base_func_proto only (not bpf_base_func_proto, so no tracing type has it); cgroup_sock and cgroup_sysctl checked on 6.18; sk_reuseport_func_proto */
/** a congestion control's struct_ops programs (bpf_tcp_ca_get_func_proto): the ops struct is their attach type here */
const TCP_CA: ProgTypeFilter = (t, a) => t === 'struct_ops' && a === 'tcp_congestion_ops';
export const COARSE_NS = union(NET, of('cgroup_sysctl', 'cgroup_sock', 'sk_reuseport'), TCP_CA);

/** The attach types bpf_prog_has_trampoline is true for, with program type tracing. */
const TRAMPOLINE_ATTACH: readonly string[] = ['trace_fentry', 'trace_fexit', 'modify_return'];
/** bpf_prog_has_trampoline: fentry, fexit, fmod_ret and lsm (BPF_LSM_MAC, not lsm_cgroup) programs (get_func_arg, get_func_ret, get_func_arg_cnt) */
export const TRAMPOLINE: ProgTypeFilter = (t, a) => (t === 'tracing' && TRAMPOLINE_ATTACH.includes(a ?? '')) || (t === 'lsm' && a !== 'lsm_cgroup');
/** get_func_ip (check_get_func_ip): kprobes; for tracing programs only fentry/fexit/fmod_ret */
export const FUNC_IP: ProgTypeFilter = (t, a) => t === 'kprobe' || TRAMPOLINE(t, a);
/**
 * get_attach_cookie: kprobe/tp/pe/raw_tp_prog_func_proto; tracing_prog_func_proto for tp_btf
 * (BPF_TRACE_RAW_TP) and trampoline programs, not for iterators or syscall programs
 */
export const ATTACH_COOKIE: ProgTypeFilter = (t, a) => ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint'].includes(t)
  || (t === 'tracing' && a === 'trace_raw_tp') || TRAMPOLINE(t, a);

/** Program types whose lookups go through cgroup_common_func_proto (kernel/bpf/cgroup.c). */
export const CGROUP = of('cgroup_skb', 'cgroup_sock', 'cgroup_sock_addr', 'sock_ops', 'cgroup_device', 'cgroup_sysctl', 'cgroup_sockopt');
/**
 * cgroup_common_func_proto's get_retval/set_retval: not for the hooks whose
 * return value is a verdict rather than an errno (inet ingress/egress,
 * sock_ops, recvmsg, getpeername, getsockname). No expected attach type is 0, BPF_CGROUP_INET_INGRESS.
 */
const NO_RETVAL_ATTACH: ReadonlySet<string> = new Set(['cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_sock_ops',
  'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_unix_recvmsg', 'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername',
  'cgroup_unix_getpeername', 'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'cgroup_unix_getsockname']);
export const RETVAL: ProgTypeFilter = (t, a) => (CGROUP(t) && !NO_RETVAL_ATTACH.has(a ?? 'cgroup_inet_ingress')) || LSM_CGROUP(t, a);

/** The ctx-taking get_socket_cookie protos of the socket hooks (other program types get other protos, or none). */
export const SOCKET_COOKIE = of('socket_filter', 'cgroup_skb', 'sched_cls', 'sched_act', 'cgroup_sock', 'cgroup_sock_addr', 'sock_ops', 'sk_skb');
/** get_netns_cookie with a context that may be NULL (sock_addr_func_proto, sock_filter_func_proto) */
export const NETNS_COOKIE = of('cgroup_sock_addr', 'cgroup_sock');
/** sock_addr_func_proto: no setsockopt/getsockopt for the unix getpeername/getsockname hooks. */
const SOCKOPT_UNAVAILABLE: ReadonlySet<string> = new Set(['cgroup_unix_getpeername', 'cgroup_unix_getsockname']);
export const SOCKOPT: ProgTypeFilter = (t, a) => t === 'sock_ops' || (t === 'cgroup_sock_addr' && !SOCKOPT_UNAVAILABLE.has(a ?? '')) || SK_SOCKOPT(t, a);
/** cg_sockopt_func_proto: the setsockopt hook (not getsockopt's) may call bpf_setsockopt/getsockopt, on the socket it is given. */
export const SETSOCKOPT_HOOK: ProgTypeFilter = (t, a) => t === 'cgroup_sockopt' && a === 'cgroup_setsockopt';
/**
 * bpf_sk_setsockopt_proto / bpf_sk_getsockopt_proto (a socket, not the context): the setsockopt hook
 * and a congestion control (bpf_tcp_ca_get_func_proto; not its release member, which
 * progtypes/struct-ops.ts refuses: the ops struct is the attach type here, not the member)
 */
export const SK_SOCKOPT: ProgTypeFilter = (t, a) => SETSOCKOPT_HOOK(t, a) || (t === 'struct_ops' && a === 'tcp_congestion_ops');
/** bind: the connect hooks of sock_addr_func_proto */
export const BIND: ProgTypeFilter = (t, a) => t === 'cgroup_sock_addr' && (a === 'cgroup_inet4_connect' || a === 'cgroup_inet6_connect');

// The helpers tsbpf's verifier does not model (the catalog's `unmodelled`): where the kernel offers them.
/** sk_lookup_tcp/udp, skc_lookup_tcp: tc, xdp, cg_skb, sk_skb and sock_addr_func_proto */
export const SOCK_LOOKUP = of('sched_cls', 'sched_act', 'xdp', 'cgroup_skb', 'sk_skb', 'cgroup_sock_addr');
/** sk_release: the lookups' types and sk_lookup_func_proto */
export const SK_RELEASE = union(SOCK_LOOKUP, of('sk_lookup'));
/** tcp_sock: tc, cg_skb, sock_ops and cg_sockopt */
export const TCP_SOCK = of('sched_cls', 'sched_act', 'cgroup_skb', 'sock_ops', 'cgroup_sockopt');
/** sk_storage_get/delete: the socket hooks and syscall programs (cgroup_sock: get only, bpf_sk_storage_get_cg_sock_proto) */
export const SK_STORAGE_DELETE = union(of('sched_cls', 'sched_act', 'cgroup_skb', 'sock_ops', 'sk_msg', 'cgroup_sock_addr', 'cgroup_sockopt', 'syscall', 'tracing', 'lsm'), TCP_CA);
export const SK_STORAGE_GET = union(SK_STORAGE_DELETE, of('cgroup_sock'));
/** sk_assign: tc and sk_lookup */
export const SK_ASSIGN = of('sched_cls', 'sched_act', 'sk_lookup');
/** sk_lookup programs alone (their own sk_assign proto) */
export const SK_LOOKUP_PROG = of('sk_lookup');
/** tracing programs alone (their own sk_storage_* protos) */
export const TRACING_PROG_ONLY = of('tracing');
/** cgroup sock programs alone (their own sk_storage_get proto, the context as the socket) */
export const CGROUP_SOCK = of('cgroup_sock');
/** bpf_skc_to_*: bpf_sk_base_func_proto, and tracing_prog_func_proto (tracing, syscall) */
export const SKC_TO = union(NET, of('tracing', 'syscall', 'lsm'));
/** tracing_prog_func_proto's own helpers (skb_output, xdp_output, sock_from_file, d_path): tracing and syscall programs */
export const TRACING_PROG = of('tracing', 'syscall', 'lsm');
/** get_socket_cookie of a kernel socket pointer (bpf_get_socket_ptr_cookie_proto): tracing_prog_func_proto's types and sk_reuseport */
export const PTR_COOKIE = union(TRACING_PROG, SK_REUSEPORT);
/** bpf_iter programs' seq_file helpers */
export const ITER: ProgTypeFilter = (t, a) => t === 'tracing' && a === 'trace_iter';
/** bpf_lsm_func_proto */
export const LSM = of('lsm');
/** lsm_cgroup programs: bpf_lsm_func_proto asks cgroup_common_func_proto first (get_local_storage, get/set_retval) */
export const LSM_CGROUP: ProgTypeFilter = (t, a) => t === 'lsm' && a === 'lsm_cgroup';
/**
 * perf_event_output: every type's get_func_proto offers one (bpf_skb_event_output,
 * bpf_xdp_event_output, the tracing and cgroup ones) except sk_reuseport_func_proto,
 * flow_dissector_func_proto and the struct_ops ones (bpf_base_func_proto has none)
 */
export const PERF_EVENT_OUTPUT: ProgTypeFilter = (t) => t !== 'sk_reuseport' && t !== 'flow_dissector' && t !== 'struct_ops';
/** bpf_tcp_ca's struct_ops programs */
export const STRUCT_OPS = of('struct_ops');
/** get_local_storage: cgroup_common_func_proto's users, lsm_cgroup included */
export const CGROUP_LOCAL_STORAGE: ProgTypeFilter = (t, a) => CGROUP(t) || LSM_CGROUP(t, a);
