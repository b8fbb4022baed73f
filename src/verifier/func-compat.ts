/**
 * Which maps a helper may be called with: check_map_func_compatibility and
 * may_update_sockmap (kernel/bpf/verifier.c). Which program types may call a
 * helper is the helper catalog's (src/uapi/helpers.ts, helper-progtypes.ts).
 */
import type { MapTypeName, ProgTypeName } from '../object/spec.js';
import { BPF_FUNC as F } from '../uapi/helper-ids.js';

/** Helpers that take a map, by kernel id, with the map types each accepts (check_map_func_compatibility, the function's side). */
const FUNC_MAPS: ReadonlyMap<number, readonly MapTypeName[]> = new Map<number, readonly MapTypeName[]>([
  [F.tail_call, ['prog_array']],
  [F.perf_event_read, ['perf_event_array']], [F.perf_event_output, ['perf_event_array']], [F.perf_event_read_value, ['perf_event_array']], [F.skb_output, ['perf_event_array']], [F.xdp_output, ['perf_event_array']],
  [F.ringbuf_output, ['ringbuf']], [F.ringbuf_reserve, ['ringbuf']], [F.ringbuf_query, ['ringbuf']], [F.ringbuf_reserve_dynptr, ['ringbuf']], [F.ringbuf_submit_dynptr, ['ringbuf']], [F.ringbuf_discard_dynptr, ['ringbuf']],
  [F.user_ringbuf_drain, ['user_ringbuf']],
  [F.get_stackid, ['stack_trace']],
  [F.skb_under_cgroup, ['cgroup_array']], [F.current_task_under_cgroup, ['cgroup_array']],
  [F.redirect_map, ['devmap', 'devmap_hash', 'cpumap', 'xskmap']],
  [F.sk_redirect_map, ['sockmap']], [F.msg_redirect_map, ['sockmap']], [F.sock_map_update, ['sockmap']],
  [F.sk_redirect_hash, ['sockhash']], [F.msg_redirect_hash, ['sockhash']], [F.sock_hash_update, ['sockhash']],
  [F.get_local_storage, ['cgroup_storage', 'percpu_cgroup_storage']],
  [F.sk_select_reuseport, ['reuseport_sockarray', 'sockmap', 'sockhash']],
  [F.map_pop_elem, ['queue', 'stack']],
  [F.map_peek_elem, ['queue', 'stack', 'bloom_filter']], [F.map_push_elem, ['queue', 'stack', 'bloom_filter']],
  [F.map_lookup_percpu_elem, ['percpu_array', 'percpu_hash', 'lru_percpu_hash']],
  [F.sk_storage_get, ['sk_storage']], [F.sk_storage_delete, ['sk_storage']],
  [F.inode_storage_get, ['inode_storage']], [F.inode_storage_delete, ['inode_storage']],
  [F.task_storage_get, ['task_storage']], [F.task_storage_delete, ['task_storage']],
  [F.cgrp_storage_get, ['cgrp_storage']], [F.cgrp_storage_delete, ['cgrp_storage']],
]);

/** Map types that admit only some helpers, with those helpers (check_map_func_compatibility, the map's side). */
const MAP_FUNCS: Partial<Record<MapTypeName, readonly number[]>> = {
  prog_array: [F.tail_call],
  perf_event_array: [F.perf_event_read, F.perf_event_output, F.skb_output, F.perf_event_read_value, F.xdp_output],
  ringbuf: [F.ringbuf_output, F.ringbuf_reserve, F.ringbuf_query, F.ringbuf_reserve_dynptr, F.ringbuf_submit_dynptr, F.ringbuf_discard_dynptr],
  user_ringbuf: [F.user_ringbuf_drain],
  stack_trace: [F.get_stackid],
  cgroup_array: [F.skb_under_cgroup, F.current_task_under_cgroup],
  cgroup_storage: [F.get_local_storage],
  percpu_cgroup_storage: [F.get_local_storage],
  devmap: [F.redirect_map, F.map_lookup_elem],
  devmap_hash: [F.redirect_map, F.map_lookup_elem],
  cpumap: [F.redirect_map],
  xskmap: [F.redirect_map, F.map_lookup_elem],
  array_of_maps: [F.map_lookup_elem],
  hash_of_maps: [F.map_lookup_elem],
  sockmap: [F.sk_redirect_map, F.sock_map_update, F.msg_redirect_map, F.sk_select_reuseport, F.map_lookup_elem],
  sockhash: [F.sk_redirect_hash, F.sock_hash_update, F.msg_redirect_hash, F.sk_select_reuseport, F.map_lookup_elem],
  reuseport_sockarray: [F.sk_select_reuseport],
  queue: [F.map_peek_elem, F.map_pop_elem, F.map_push_elem],
  stack: [F.map_peek_elem, F.map_pop_elem, F.map_push_elem],
  sk_storage: [F.sk_storage_get, F.sk_storage_delete, F.kptr_xchg],
  inode_storage: [F.inode_storage_get, F.inode_storage_delete, F.kptr_xchg],
  task_storage: [F.task_storage_get, F.task_storage_delete, F.kptr_xchg],
  cgrp_storage: [F.cgrp_storage_get, F.cgrp_storage_delete, F.kptr_xchg],
  bloom_filter: [F.map_peek_elem, F.map_push_elem],
};

/**
 * may_update_sockmap: map_update_elem / map_delete_elem on a sockmap or
 * sockhash only where no locked struct sock can be reached (socket filters,
 * tc, xdp, ...; sock_ops may delete; iterators may do both).
 */
function mayUpdateSockmap(type: ProgTypeName, id: number, attachType?: string): boolean {
  if (id !== F.map_update_elem && id !== F.map_delete_elem) return false;
  switch (type) {
    case 'tracing':
      return attachType === 'trace_iter';
    case 'sock_ops':
      return id === F.map_delete_elem;
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
      if (!mayUpdateSockmap(type, id, attachType)) return (id === F.map_update_elem || id === F.map_delete_elem ? 'cannot update sockmap in this context\n' : '') + err;
    } else return err;
  }
  const funcAllows = FUNC_MAPS.get(id);
  if (funcAllows && !funcAllows.includes(mt)) return err;
  return undefined;
}
