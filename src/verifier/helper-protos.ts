/**
 * The prototypes of the helpers the verifier knows, keyed by the kernel's
 * helper id (enum bpf_func_id), written after each helper's
 * `struct bpf_func_proto` in the kernel (kernel/bpf/helpers.c,
 * kernel/trace/bpf_trace.c, net/core/filter.c, kernel/bpf/ringbuf.c). The
 * verifier uses these when the caller gives no helper registry; a registry's
 * protos take precedence.
 *
 * This table is wider than what tsbpf runs: it also holds helpers tsbpf has
 * no implementation of (stack traces, signals, tunnel keys, FIB lookups,
 * ...), so that `tsbpf prog load` judges programs calling them as Linux
 * does. The runtime refuses to load such a program with ENOTSUPP
 * (runtime/loader.ts, `notImplementedHelper`). Which program types may call
 * each helper is func-compat.ts's table.
 */
import type { HelperProto } from '../helpers/proto.js';

export interface NamedProto {
  name: string;
  proto: HelperProto;
}

const P = (name: string, proto: HelperProto): NamedProto => ({ name, proto });
const probeRead = (name: string): NamedProto => P(name, { ret: 'INTEGER', args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], gplOnly: true });
const int0 = (name: string, gplOnly = false): NamedProto => P(name, { ret: 'INTEGER', args: [], gplOnly });

export const HELPER_PROTOS: ReadonlyMap<number, NamedProto> = new Map<number, NamedProto>([
  [1, P('map_lookup_elem', { ret: 'PTR_TO_MAP_VALUE_OR_NULL', args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY'] })],
  [2, P('map_update_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'PTR_TO_MAP_VALUE', 'ANYTHING'] })],
  [3, P('map_delete_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY'] })],
  [4, probeRead('probe_read')],
  [5, int0('ktime_get_ns')],
  // Variadic: the helper reads r3..r5, but the kernel's proto checks only the format and its size
  // (the verifier skips the rest, see VARIADIC_CHECKED_ARGS in call-helper.ts).
  [6, P('trace_printk', { ret: 'INTEGER', args: ['PTR_TO_MEM', 'CONST_SIZE'], gplOnly: true })],
  [7, int0('get_prandom_u32')],
  [8, int0('get_smp_processor_id')],
  [9, P('skb_store_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], changesPktData: true })],
  [10, P('l3_csum_replace', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [11, P('l4_csum_replace', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [12, P('tail_call', { ret: 'VOID', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING'] })],
  [14, int0('get_current_pid_tgid')],
  [15, int0('get_current_uid_gid')],
  [16, P('get_current_comm', { ret: 'INTEGER', args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [23, P('redirect', { ret: 'INTEGER', args: ['ANYTHING', 'ANYTHING'] })],
  [25, P('perf_event_output', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'] })],
  [26, P('skb_load_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [28, P('csum_diff', { ret: 'INTEGER', args: ['PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'ANYTHING'] })],
  [44, P('xdp_adjust_head', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'], changesPktData: true })],
  [45, probeRead('probe_read_str')],
  [51, P('redirect_map', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'ANYTHING', 'ANYTHING'] })],
  [54, P('xdp_adjust_meta', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'], changesPktData: true })],
  [65, P('xdp_adjust_tail', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'], changesPktData: true })],
  [87, P('map_push_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_MAP_VALUE', 'ANYTHING'] })],
  [88, P('map_pop_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MAP_VALUE'] })],
  [89, P('map_peek_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MAP_VALUE'] })],
  [112, probeRead('probe_read_user')],
  [113, probeRead('probe_read_kernel')],
  [114, probeRead('probe_read_user_str')],
  [115, probeRead('probe_read_kernel_str')],
  [125, int0('ktime_get_boot_ns')],
  [130, P('ringbuf_output', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'] })],
  [131, P('ringbuf_reserve', { ret: 'PTR_TO_RINGBUF_MEM_OR_NULL', args: ['CONST_MAP_PTR', 'CONST_ALLOC_SIZE_OR_ZERO', 'ANYTHING'] })],
  [132, P('ringbuf_submit', { ret: 'VOID', args: ['PTR_TO_RINGBUF_MEM', 'ANYTHING'], releasesArg: 0 })],
  [133, P('ringbuf_discard', { ret: 'VOID', args: ['PTR_TO_RINGBUF_MEM', 'ANYTHING'], releasesArg: 0 })],
  [134, P('ringbuf_query', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'ANYTHING'] })],
  [160, int0('ktime_get_coarse_ns')],
  [164, P('for_each_map_elem', { ret: 'INTEGER', args: ['CONST_MAP_PTR', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING'] })],
  [165, P('snprintf', { ret: 'INTEGER', args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'PTR_TO_CONST_STR', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'] })],
  [181, P('loop', { ret: 'INTEGER', args: ['ANYTHING', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING'] })],
  [182, P('strncmp', { ret: 'INTEGER', args: ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_CONST_STR'] })],
  [118, int0('jiffies64')],
  // Known to the verifier, run by tsbpf's registry too (src/helpers): same prototypes.
  [42, int0('get_numa_node_id')],
  [177, P('trace_vprintk', { ret: 'INTEGER', args: ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], gplOnly: true })],
  [188, P('xdp_get_buff_len', { ret: 'INTEGER', args: ['PTR_TO_CTX'] })],
  [189, P('xdp_load_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [190, P('xdp_store_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'] })],
  [173, P('get_func_ip', { ret: 'INTEGER', args: ['PTR_TO_CTX'], gplOnly: true })],
  // Known to the verifier only (no tsbpf implementation): kernel/bpf/stackmap.c, kernel/trace/bpf_trace.c,
  // kernel/bpf/helpers.c, kernel/bpf/cgroup.c, net/core/filter.c.
  // get_stackid (bpf_get_stackid_proto*): a stack_trace map (func-compat.ts FUNC_MAPS)
  [27, P('get_stackid', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING'], gplOnly: true })],
  // get_stack (bpf_get_stack_proto): R0 is refined to [-MAX_ERRNO, size] (do_refine_retval_range)
  [67, P('get_stack', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], gplOnly: true })],
  [35, int0('get_current_task', true)],
  [80, int0('get_current_cgroup_id')],
  // strtoul (bpf_strtoul_proto): arg 4 is ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_ALIGNED, an aligned writable u64
  [106, P('strtoul', { ret: 'INTEGER', args: ['PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING', 'PTR_TO_LONG'] })],
  [105, P('strtol', { ret: 'INTEGER', args: ['PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING', 'PTR_TO_LONG'] })],
  [117, P('send_signal_thread', { ret: 'INTEGER', args: ['ANYTHING'] })],
  [109, P('send_signal', { ret: 'INTEGER', args: ['ANYTHING'] })],
  // get_retval (cgroup.c bpf_get_retval_proto): cgroup hooks whose return value is an errno
  // get_local_storage (cgroup.c bpf_get_local_storage_proto): the cgroup storage map's value, never NULL; flags must be 0
  [81, P('get_local_storage', { ret: 'PTR_TO_MAP_VALUE', args: ['CONST_MAP_PTR', 'ANYTHING'] })],
  [186, int0('get_retval')],
  [187, P('set_retval', { ret: 'INTEGER', args: ['ANYTHING'] })],
  // tc (filter.c): clone_redirect, redirect_neigh, skb_pull_data, skb_set_tunnel_key, fib_lookup (tc and xdp)
  [13, P('clone_redirect', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [152, P('redirect_neigh', { ret: 'INTEGER', args: ['ANYTHING', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'ANYTHING'] })],
  [39, P('skb_pull_data', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'], changesPktData: true })],
  // skb_change_tail/head, skb_adjust_room: resize the packet (tc, sk_skb; change_* also lwt_xmit)
  [38, P('skb_change_tail', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [43, P('skb_change_head', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [50, P('skb_adjust_room', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [21, P('skb_set_tunnel_key', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'] })],
  [69, P('fib_lookup', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], gplOnly: true })],
  // Socket hooks' helpers whose socket is the context (filter.c *_sock_addr_proto, bpf_sock_ops_*_proto,
  // bpf_get_socket_cookie_proto); the program types given each of these protos are in func-compat.ts.
  [46, P('get_socket_cookie', { ret: 'INTEGER', args: ['PTR_TO_CTX'] })],
  [122, P('get_netns_cookie', { ret: 'INTEGER', args: ['PTR_TO_CTX_OR_NULL'] })],
  [49, P('setsockopt', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'] })],
  [57, P('getsockopt', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [64, P('bind', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE'] })],
  // cgroup sysctl (kernel/bpf/cgroup.c sysctl_func_proto). get_name's buffer is written by the helper
  // (6.18: ARG_PTR_TO_MEM | MEM_WRITE), so it need not be initialised.
  [101, P('sysctl_get_name', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING'] })],
  [102, P('sysctl_get_current_value', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [103, P('sysctl_get_new_value', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  [104, P('sysctl_set_new_value', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE'] })],
  // sockmap programs (net/core/sock_map.c, filter.c sk_msg_func_proto / sk_skb_func_proto): verdicts that
  // name a socket by its map slot (the socket itself never reaches the program)
  [52, P('sk_redirect_map', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'ANYTHING'] })],
  [72, P('sk_redirect_hash', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'] })],
  [60, P('msg_redirect_map', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'ANYTHING'] })],
  [71, P('msg_redirect_hash', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'] })],
  [61, P('msg_apply_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'] })],
  [62, P('msg_cork_bytes', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'] })],
  [63, P('msg_pull_data', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [90, P('msg_push_data', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  [91, P('msg_pop_data', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], changesPktData: true })],
  // sock_ops (sock_ops_func_proto): callback flags, and adding the context's socket to a sockmap/sockhash
  [59, P('sock_ops_cb_flags_set', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'] })],
  [53, P('sock_map_update', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'] })],
  [70, P('sock_hash_update', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'] })],
  // check_mtu (filter.c bpf_{skb,xdp}_check_mtu_proto): mtu_len is ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE |
  // MEM_ALIGNED with arg_size 4, an aligned u32 the helper writes (Linux 6.18 accepts it uninitialised).
  [163, P('check_mtu', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_U32', 'ANYTHING', 'ANYTHING'], gplOnly: true })],
  // get_attach_cookie (bpf_trace.c bpf_get_attach_cookie_proto_{trace,pe,tracing,kmulti,umulti}): every variant takes the context
  [174, P('get_attach_cookie', { ret: 'INTEGER', args: ['PTR_TO_CTX'] })],
  // get_ns_current_pid_tgid (helpers.c, bpf_base_func_proto): fills a struct bpf_pidns_info
  [120, P('get_ns_current_pid_tgid', { ret: 'INTEGER', args: ['ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'] })],
  // csum_update (filter.c bpf_csum_update_proto): folds a csum_diff result into skb->csum
  [40, P('csum_update', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'] })],
  // csum_level (filter.c bpf_csum_level_proto): reads or sets skb->csum_level, same program types as csum_update
  [135, P('csum_level', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'] })],
  // override_return (bpf_trace.c): kprobes, only in kernels built with CONFIG_BPF_KPROBE_OVERRIDE — not the
  // oracle 6.18, so func-compat.ts offers it to no program type (the kernel's "cannot use helper").
  [58, P('override_return', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING'], gplOnly: true })],
  // load_hdr_opt (filter.c bpf_sock_ops_load_hdr_opt_proto): arg 2 is ARG_PTR_TO_MEM | MEM_WRITE, filled by the helper
  [142, P('load_hdr_opt', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING'] })],
  // store_hdr_opt (ARG_PTR_TO_MEM | MEM_RDONLY: read, so initialised; it may move the packet, bpf_helper_changes_pkt_data),
  // reserve_hdr_opt: sock_ops_func_proto
  [143, P('store_hdr_opt', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], changesPktData: true })],
  [144, P('reserve_hdr_opt', { ret: 'INTEGER', args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'] })],
]);

/**
 * Helpers Linux has whose arguments or results need state tsbpf's verifier
 * does not model. A call to one is refused with ENOTSUPP naming the helper
 * and what is missing (call-helper.ts checkHelperCall), so that such a program is
 * reported as unsupported rather than judged: "invalid func unknown#N"
 * (EINVAL) would be a verdict Linux does not give. The reasons group the
 * helpers by the kernel argument/return type they need (include/linux/bpf.h).
 */
const SPIN_LOCK = 'spin locks (ARG_PTR_TO_SPIN_LOCK, lock state across the program) are not modelled by tsbpf';
const TIMER = 'timers (ARG_PTR_TO_TIMER in a map value, async callbacks) are not modelled by tsbpf';
const DYNPTR = 'dynptrs (ARG_PTR_TO_DYNPTR, stack slots holding a dynptr) are not modelled by tsbpf';
const SOCKET = 'it takes or returns a socket (PTR_TO_SOCKET / PTR_TO_SOCK_COMMON / PTR_TO_TCP_SOCK), which tsbpf does not model';
const BTF_OBJ = 'it takes or returns a kernel object (PTR_TO_BTF_ID), which tsbpf does not provide';
const KPTR = 'kptrs (referenced kernel pointers stored in map values) are not modelled by tsbpf';
const SLEEP = 'it might sleep, and tsbpf does not check that only sleepable programs call it';
export const UNMODELLED_HELPERS: ReadonlyMap<number, { name: string; why: string }> = new Map<number, { name: string; why: string }>([
  ...([[93, 'spin_lock'], [94, 'spin_unlock']] as const).map(([id, name]) => [id, { name, why: SPIN_LOCK }] as const),
  ...([[169, 'timer_init'], [170, 'timer_set_callback'], [171, 'timer_start'], [172, 'timer_cancel']] as const).map(([id, name]) => [id, { name, why: TIMER }] as const),
  ...([[197, 'dynptr_from_mem'], [198, 'ringbuf_reserve_dynptr'], [199, 'ringbuf_submit_dynptr'], [200, 'ringbuf_discard_dynptr'],
    [201, 'dynptr_read'], [202, 'dynptr_write'], [203, 'dynptr_data'], [209, 'user_ringbuf_drain']] as const).map(([id, name]) => [id, { name, why: DYNPTR }] as const),
  ...([[84, 'sk_lookup_tcp'], [85, 'sk_lookup_udp'], [86, 'sk_release'], [95, 'sk_fullsock'], [96, 'tcp_sock'],
    [98, 'get_listener_sock'], [99, 'skc_lookup_tcp'], [100, 'tcp_check_syncookie'], [107, 'sk_storage_get'], [108, 'sk_storage_delete'],
    [110, 'tcp_gen_syncookie'], [124, 'sk_assign'], [136, 'skc_to_tcp6_sock'], [137, 'skc_to_tcp_sock'], [138, 'skc_to_tcp_timewait_sock'],
    [139, 'skc_to_tcp_request_sock'], [140, 'skc_to_udp6_sock'], [178, 'skc_to_unix_sock'], [196, 'skc_to_mptcp_sock'],
    [204, 'tcp_raw_gen_syncookie_ipv4'], [205, 'tcp_raw_gen_syncookie_ipv6'], [206, 'tcp_raw_check_syncookie_ipv4'],
    [207, 'tcp_raw_check_syncookie_ipv6']] as const).map(([id, name]) => [id, { name, why: SOCKET }] as const),
  ...([[156, 'task_storage_get'], [157, 'task_storage_delete'], [145, 'inode_storage_get'],
    [146, 'inode_storage_delete'], [210, 'cgrp_storage_get'], [211, 'cgrp_storage_delete'], [175, 'task_pt_regs'],
    [141, 'get_task_stack'], [147, 'd_path'], [153, 'per_cpu_ptr'], [154, 'this_cpu_ptr']] as const).map(([id, name]) => [id, { name, why: BTF_OBJ }] as const),
  [194, { name: 'kptr_xchg', why: KPTR }],
  ...([[148, 'copy_from_user'], [191, 'copy_from_user_task']] as const).map(([id, name]) => [id, { name, why: SLEEP }] as const),
]);

/** The helpers whose R0 the kernel bounds by the size argument (do_refine_retval_range): [-MAX_ERRNO, size]. */
export const RET_BOUNDED_BY_SIZE: ReadonlySet<number> = new Set([45, 67, 114, 115, 141]);
