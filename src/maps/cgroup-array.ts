/**
 * BPF_MAP_TYPE_CGROUP_ARRAY (kernel/bpf/arraymap.c cgroup_array_map_ops):
 * an fd array whose slots hold cgroups, for bpf_current_task_under_cgroup
 * and bpf_skb_under_cgroup ("is the current task / the packet's socket in
 * this cgroup or below it?").
 *
 * In Linux user space stores the fd of a cgroup v2 directory; tsbpf has no
 * files, so the handle is the cgroup's id (its kernfs node id, what
 * bpf_get_current_cgroup_id answers and `stat -c %i` shows for the
 * directory). An id the runtime's kernel does not know is EBADF, as a bad
 * fd is (cgroup_get_from_fd). As the kernel's, the array has no bpf(2)
 * lookup (ENOTSUPP: no map_fd_sys_lookup_elem) and programs cannot look
 * elements up (check_map_func_compatibility allows only the two helpers).
 */
import type { MapSpec } from '../object/spec.js';
import type { KeyInput, MapContext } from './map.js';
import { FdArray } from './fd-array.js';

export class CgroupArray extends FdArray<bigint> {
  private readonly known: ((id: bigint) => boolean) | undefined;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.known = ctx.cgroups?.has.bind(ctx.cgroups);
  }

  protected handleOf(id: bigint): number {
    return Number(BigInt.asUintN(32, id));
  }

  protected resolve(handle: number): bigint {
    const id = BigInt(handle);
    if (!this.known?.(id)) throw this.err('EBADF', `no cgroup with id ${handle} in this runtime's kernel`);
    return id;
  }

  override get(_key: KeyInput): never {
    throw this.err('ENOTSUPP', 'cgroup_array elements cannot be looked up');
  }

  /** The id of the cgroup in slot `index`, undefined when empty (the helpers' array_map->ptrs[idx]). */
  cgroupAt(index: number): bigint | undefined {
    return this.slots.get(index);
  }
}
