/**
 * Which helper a program may call, and with which maps: the kernel's
 * per-program-type get_func_proto tables (net/core/filter.c,
 * kernel/trace/bpf_trace.c, kernel/bpf/helpers.c bpf_base_func_proto),
 * check_map_func_compatibility and may_update_sockmap (kernel/bpf/verifier.c),
 * and the helpers whose proto sets `pkt_access` (may a packet pointer be
 * passed as their memory argument, may_access_direct_pkt_data with a meta).
 *
 * Only the helpers tsbpf implements (helper-protos.ts) need an answer here;
 * the tables are written per helper, naming the kernel function each
 * program type's lookup reaches.
 */
import type { MapTypeName, ProgTypeName } from '../object/spec.js';

/** bpf_trace.c's program types, whose lookups end in bpf_tracing_func_proto (syscall goes through tracing_prog_func_proto). */
const TRACING_TYPES: ReadonlySet<ProgTypeName> = new Set<ProgTypeName>(['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event', 'tracing', 'syscall']);
/** Program types whose lookups end in bpf_sk_base_func_proto (filter.c). */
const NET_TYPES: ReadonlySet<ProgTypeName> = new Set<ProgTypeName>(['socket_filter', 'cgroup_skb', 'sched_cls', 'sched_act', 'xdp',
  'cgroup_sock_addr', 'sock_ops', 'sk_msg', 'sk_skb', 'flow_dissector', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local', 'sk_lookup']);

const TC: readonly ProgTypeName[] = ['sched_cls', 'sched_act'];
/** lwt_out_func_proto and the types that fall back to it (lwt_in, lwt_xmit, lwt_seg6local) */
const LWT: readonly ProgTypeName[] = ['lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local'];

/**
 * Helpers that only some program types reach. A helper not listed here is in
 * bpf_base_func_proto (map operations, ktime, prandom, tail_call, ringbuf,
 * strncmp, get_current_pid_tgid; for CAP_BPF jiffies64, loop,
 * for_each_map_elem; for CAP_PERFMON trace_printk, snprintf,
 * probe_read_{user,kernel}[_str]; in 6.18 also get_current_uid_gid and
 * get_current_comm), which every program type falls back to. Checked
 * against the running 6.18 for each of these helpers and program types.
 */
const ONLY: ReadonlyMap<number, (t: ProgTypeName) => boolean> = new Map<number, (t: ProgTypeName) => boolean>([
  // probe_read, probe_read_str: bpf_tracing_func_proto (CONFIG_ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE, as on x86-64)
  [4, (t) => TRACING_TYPES.has(t)],
  [45, (t) => TRACING_TYPES.has(t)],
  // (get_current_uid_gid and get_current_comm were tracing-only in 6.12; Linux 6.18 offers them to every type)
  // skb_store_bytes, l3/l4_csum_replace: tc_cls_act_func_proto
  [9, (t) => TC.includes(t) || t === 'lwt_xmit' || t === 'sk_skb'],
  [10, (t) => TC.includes(t) || t === 'lwt_xmit'],
  [11, (t) => TC.includes(t) || t === 'lwt_xmit'],
  // skb_load_bytes: tc, and sk_filter_func_proto (socket filters; cgroup_skb falls back to it)
  [26, (t) => TC.includes(t) || t === 'socket_filter' || t === 'cgroup_skb' || LWT.includes(t) || t === 'sk_skb' || t === 'flow_dissector'],
  // sockmap verdicts: sk_skb_func_proto (sk_redirect_*), sk_msg_func_proto (msg_*)
  [52, (t) => t === 'sk_skb'],
  [59, (t) => t === 'sock_ops'],
  [53, (t) => t === 'sock_ops'],
  [70, (t) => t === 'sock_ops'],
  [72, (t) => t === 'sk_skb'],
  ...[60, 71, 61, 62, 63, 90, 91].map((id): [number, (t: ProgTypeName) => boolean] => [id, (t) => t === 'sk_msg']),
  // redirect, csum_diff: tc and xdp
  [23, (t) => TC.includes(t) || t === 'xdp' || t === 'lwt_xmit'],
  [28, (t) => TC.includes(t) || t === 'xdp' || LWT.includes(t)],
  // xdp_adjust_head/meta/tail, redirect_map: xdp_func_proto
  [44, (t) => t === 'xdp'],
  [54, (t) => t === 'xdp'],
  [65, (t) => t === 'xdp'],
  [51, (t) => t === 'xdp'],
  // ktime_get_coarse_ns: bpf_sk_base_func_proto only (not bpf_base_func_proto, so no tracing type has it)
  [160, (t) => NET_TYPES.has(t) || t === 'cgroup_sysctl' || t === 'cgroup_sock'], // cgroup_sock: checked on 6.18
  // get_stack, get_stackid: kprobe/tp/raw_tp/perf_event_prog_func_proto (and tracing, syscall through raw_tp's)
  [67, (t) => TRACING_TYPES.has(t)],
  [27, (t) => TRACING_TYPES.has(t)],
  // clone_redirect, skb_set_tunnel_key: tc and lwt_xmit; skb_pull_data: tc, sk_skb, lwt; redirect_neigh: tc only
  [13, (t) => TC.includes(t) || t === 'lwt_xmit'],
  [21, (t) => TC.includes(t) || t === 'lwt_xmit'],
  [39, (t) => TC.includes(t) || t === 'sk_skb' || t === 'lwt_in' || t === 'lwt_out' || t === 'lwt_xmit' || t === 'lwt_seg6local'],
  [152, (t) => TC.includes(t)],
  [38, (t) => TC.includes(t) || t === 'lwt_xmit' || t === 'sk_skb'],
  [43, (t) => TC.includes(t) || t === 'lwt_xmit' || t === 'sk_skb'],
  [50, (t) => TC.includes(t) || t === 'sk_skb'],
  // fib_lookup: tc_cls_act_func_proto and xdp_func_proto
  [69, (t) => TC.includes(t) || t === 'xdp'],
  // xdp_get_buff_len, xdp_load/store_bytes: xdp_func_proto
  [188, (t) => t === 'xdp'],
  [189, (t) => t === 'xdp'],
  [190, (t) => t === 'xdp'],
  // check_mtu: tc_cls_act_func_proto (bpf_skb_check_mtu_proto) and xdp_func_proto (bpf_xdp_check_mtu_proto)
  [163, (t) => TC.includes(t) || t === 'xdp'],
  // csum_update, csum_level: tc_cls_act_func_proto and lwt_xmit_func_proto
  [40, (t) => TC.includes(t) || t === 'lwt_xmit'],
  [135, (t) => TC.includes(t) || t === 'lwt_xmit'],
  // load_hdr_opt: sock_ops_func_proto
  [142, (t) => t === 'sock_ops'],
  [143, (t) => t === 'sock_ops'],
  [144, (t) => t === 'sock_ops'],
  // override_return: kprobe_prog_func_proto under CONFIG_BPF_KPROBE_OVERRIDE, which the oracle 6.18 is built without
  [58, () => false],
]);

/** The attach types bpf_prog_has_trampoline is true for (tracing programs; LSM is not a program type tsbpf verifies). */
const TRAMPOLINE_ATTACH: readonly string[] = ['trace_fentry', 'trace_fexit', 'modify_return'];

/** Program types whose lookups go through cgroup_common_func_proto (kernel/bpf/cgroup.c). */
const CGROUP_TYPES: ReadonlySet<ProgTypeName> = new Set<ProgTypeName>(['cgroup_skb', 'cgroup_sock', 'cgroup_sock_addr', 'sock_ops', 'cgroup_device', 'cgroup_sysctl', 'cgroup_sockopt']);

/**
 * cgroup_common_func_proto's get_retval/set_retval: not for the hooks whose
 * return value is a verdict rather than an errno (inet ingress/egress,
 * sock_ops, recvmsg, getpeername, getsockname).
 */
const NO_RETVAL_ATTACH: ReadonlySet<string> = new Set(['cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_sock_ops',
  'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_unix_recvmsg', 'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername',
  'cgroup_unix_getpeername', 'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'cgroup_unix_getsockname']);

/** sock_addr_func_proto: no setsockopt/getsockopt for the unix getpeername/getsockname hooks. */
const SOCKOPT_UNAVAILABLE: ReadonlySet<string> = new Set(['cgroup_unix_getpeername', 'cgroup_unix_getsockname']);

/**
 * Helpers bpf_base_func_proto offers only to a loader with CAP_BPF or
 * CAP_PERFMON (the unprivileged check is UNPRIV_FORBIDDEN_HELPERS in
 * call-helper.ts; these are the ones this table adds).
 */
export const PRIVILEGED_HELPERS: ReadonlySet<number> = new Set([35, 80, 177,
  // send_signal, send_signal_thread: bpf_tracing_func_proto in 6.12; Linux 6.18 offers them to every type, with CAP_PERFMON
  109, 117]);

/** Does `type`'s get_func_proto return a proto for helper `id` (root's view; the unprivileged limits are separate)? */
export function helperAvailable(type: ProgTypeName, id: number, attachType?: string): boolean {
  // get_func_ip (check_get_func_ip): kprobes; for tracing programs only fentry/fexit/fmod_ret
  if (id === 173) return type === 'kprobe' || (type === 'tracing' && TRAMPOLINE_ATTACH.includes(attachType ?? ''));
  // get_attach_cookie: kprobe/tp/pe/raw_tp_prog_func_proto; tracing_prog_func_proto for tp_btf (BPF_TRACE_RAW_TP)
  // and trampoline programs, not for iterators or syscall programs
  if (id === 174) return ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint'].includes(type)
    || (type === 'tracing' && (attachType === 'trace_raw_tp' || TRAMPOLINE_ATTACH.includes(attachType ?? '')));
  if (id === 186 || id === 187) return CGROUP_TYPES.has(type) && !NO_RETVAL_ATTACH.has(attachType ?? 'cgroup_inet_ingress'); // no expected attach type is 0, BPF_CGROUP_INET_INGRESS
  // The ctx-taking protos of the socket hooks (other program types get other protos, or none).
  if (id === 46) return ['socket_filter', 'cgroup_skb', 'sched_cls', 'sched_act', 'cgroup_sock', 'cgroup_sock_addr', 'sock_ops', 'sk_skb'].includes(type);
  if (id === 81) return CGROUP_TYPES.has(type); // cgroup_common_func_proto
  if (id === 122) return type === 'cgroup_sock_addr' || type === 'cgroup_sock';
  if (id >= 101 && id <= 104) return type === 'cgroup_sysctl';
  if (id === 49 || id === 57) return type === 'sock_ops' || (type === 'cgroup_sock_addr' && !SOCKOPT_UNAVAILABLE.has(attachType ?? ''));
  if (id === 64) return type === 'cgroup_sock_addr' && (attachType === 'cgroup_inet4_connect' || attachType === 'cgroup_inet6_connect');
  const only = ONLY.get(id);
  return only ? only(type) : true;
}

/**
 * Helpers whose proto sets pkt_access: only these may take a packet pointer
 * as an argument (check_func_arg: "helper access to the packet is not allowed").
 * map_lookup/update/delete_elem, map_push_elem, map_lookup_percpu_elem
 * (helpers.c), csum_diff and the socket lookup / syncookie helpers (filter.c).
 */
export const PKT_ACCESS_HELPERS: ReadonlySet<number> = new Set([1, 2, 3, 87, 195, 28, 84, 85, 99, 100, 110, 204, 205, 206, 207]);

/** Helpers that take a map, by kernel id, with the map types each accepts (check_map_func_compatibility, the function's side). */
const FUNC_MAPS: ReadonlyMap<number, readonly MapTypeName[]> = new Map<number, readonly MapTypeName[]>([
  [12, ['prog_array']],
  [22, ['perf_event_array']], [25, ['perf_event_array']], [55, ['perf_event_array']], [111, ['perf_event_array']], [121, ['perf_event_array']],
  [130, ['ringbuf']], [131, ['ringbuf']], [134, ['ringbuf']], [198, ['ringbuf']], [199, ['ringbuf']], [200, ['ringbuf']],
  [209, ['user_ringbuf']],
  [27, ['stack_trace']],
  [33, ['cgroup_array']], [37, ['cgroup_array']],
  [51, ['devmap', 'devmap_hash', 'cpumap', 'xskmap']],
  [52, ['sockmap']], [60, ['sockmap']], [53, ['sockmap']],
  [72, ['sockhash']], [71, ['sockhash']], [70, ['sockhash']],
  [81, ['cgroup_storage', 'percpu_cgroup_storage']],
  [82, ['reuseport_sockarray', 'sockmap', 'sockhash']],
  [88, ['queue', 'stack']],
  [89, ['queue', 'stack', 'bloom_filter']], [87, ['queue', 'stack', 'bloom_filter']],
  [195, ['percpu_array', 'percpu_hash', 'lru_percpu_hash']],
  [107, ['sk_storage']], [108, ['sk_storage']],
  [145, ['inode_storage']], [146, ['inode_storage']],
  [156, ['task_storage']], [157, ['task_storage']],
  [210, ['cgrp_storage']], [211, ['cgrp_storage']],
]);

/** Map types that admit only some helpers, with those helpers (check_map_func_compatibility, the map's side). */
const MAP_FUNCS: Partial<Record<MapTypeName, readonly number[]>> = {
  prog_array: [12],
  perf_event_array: [22, 25, 111, 55, 121],
  ringbuf: [130, 131, 134, 198, 199, 200],
  user_ringbuf: [209],
  stack_trace: [27],
  cgroup_array: [33, 37],
  cgroup_storage: [81],
  percpu_cgroup_storage: [81],
  devmap: [51, 1],
  devmap_hash: [51, 1],
  cpumap: [51],
  xskmap: [51, 1],
  array_of_maps: [1],
  hash_of_maps: [1],
  sockmap: [52, 53, 60, 82, 1],
  sockhash: [72, 70, 71, 82, 1],
  reuseport_sockarray: [82],
  queue: [89, 88, 87],
  stack: [89, 88, 87],
  sk_storage: [107, 108, 194],
  inode_storage: [145, 146, 194],
  task_storage: [156, 157, 194],
  cgrp_storage: [210, 211, 194],
  bloom_filter: [89, 87],
};

/**
 * may_update_sockmap: map_update_elem / map_delete_elem on a sockmap or
 * sockhash only where no locked struct sock can be reached (socket filters,
 * tc, xdp, ...; sock_ops may delete; iterators may do both).
 */
function mayUpdateSockmap(type: ProgTypeName, id: number, attachType?: string): boolean {
  if (id !== 2 && id !== 3) return false;
  switch (type) {
    case 'tracing':
      return attachType === 'trace_iter';
    case 'sock_ops':
      return id === 3;
    case 'socket_filter': case 'sched_cls': case 'sched_act': case 'xdp': case 'sk_reuseport': case 'flow_dissector': case 'sk_lookup':
      return true;
    default:
      return false;
  }
}

/**
 * check_map_func_compatibility, both directions: undefined when helper `id`
 * may be called with a map of type `mt` from a program of type `type`,
 * else the kernel's log lines for the refusal (EINVAL).
 */
export function mapFuncIncompatibility(mt: MapTypeName, mapTypeId: number, id: number, helperName: string, type: ProgTypeName, attachType?: string): string | undefined {
  const err = `cannot pass map_type ${mapTypeId} into func ${helperName}#${id}`;
  const mapAllows = MAP_FUNCS[mt];
  if (mapAllows && !mapAllows.includes(id)) {
    if (mt === 'sockmap' || mt === 'sockhash') {
      if (!mayUpdateSockmap(type, id, attachType)) return (id === 2 || id === 3 ? 'cannot update sockmap in this context\n' : '') + err;
    } else return err;
  }
  const funcAllows = FUNC_MAPS.get(id);
  if (funcAllows && !funcAllows.includes(mt)) return err;
  return undefined;
}
