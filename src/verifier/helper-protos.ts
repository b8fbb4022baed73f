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
  // (the verifier skips the rest, see VARIADIC_CHECKED_ARGS in check.ts).
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
]);

/** The helpers whose R0 the kernel bounds by the size argument (do_refine_retval_range): [-MAX_ERRNO, size]. */
export const RET_BOUNDED_BY_SIZE: ReadonlySet<number> = new Set([45, 67, 114, 115, 141]);
