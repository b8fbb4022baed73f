/**
 * BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH: hash maps that
 * evict the least recently used element instead of failing with E2BIG when
 * full. How tsbpf's single exact LRU list differs from the kernel's
 * bpf_lru (kernel/bpf/bpf_lru_list.c) is described in hash-table.ts.
 *
 * Host lookups do not count as a use (the kernel's
 * htab_lru_map_lookup_elem_sys does not set the reference bit); program
 * lookups set it, and every update moves the element to the front.
 *
 * With BPF_F_NO_COMMON_LRU the kernel rounds max_entries to a multiple of the
 * CPU count (each CPU gets an equal share); tsbpf does the same rounding but
 * keeps one common list.
 */
import type { MapSpec } from '../object/spec.js';
import type { MapContext } from './map.js';
import { HashMap, PerCpuHashMap } from './hash.js';
import { BPF_F_NO_COMMON_LRU } from './flags.js';

/** htab_map_alloc's max_entries adjustment for per-CPU LRU lists. */
function lruMaxEntries(spec: MapSpec, numCpus: number): number {
  if (!(spec.flags & BPF_F_NO_COMMON_LRU)) return spec.maxEntries;
  const up = Math.ceil(spec.maxEntries / numCpus) * numCpus;
  return up >= spec.maxEntries && up <= 0xffffffff ? up : Math.floor(spec.maxEntries / numCpus) * numCpus;
}

export class LruHashMap extends HashMap {
  constructor(spec: MapSpec, ctx: MapContext) {
    super({ ...spec, maxEntries: lruMaxEntries(spec, Math.max(1, ctx.numCpus ?? 1)) }, ctx, true);
  }
}

export class LruPerCpuHashMap extends PerCpuHashMap {
  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx, true, lruMaxEntries(spec, Math.max(1, ctx.numCpus ?? 1)));
  }
}
