/**
 * The map class of each map type (the kernel's bpf_map_types table: one
 * struct bpf_map_ops per BPF_MAP_TYPE_*). `createMap` makes a map with it,
 * and a worker opening a shared runtime's map (shareable.ts) makes its view
 * with the same class.
 */
import type { MapSpec, MapTypeName } from '../object/spec.js';
import type { BpfMap, MapContext } from './map.js';
import { ArrayMap, PerCpuArrayMap } from './array.js';
import { HashMap, PerCpuHashMap } from './hash.js';
import { LruHashMap, LruPerCpuHashMap } from './lru-hash.js';
import { LpmTrie } from './lpm-trie.js';
import { RingBuf } from './ringbuf.js';
import { PerfEventArray } from './perf-event-array.js';
import { ProgArray } from './prog-array.js';
import { ArrayOfMaps, HashOfMaps } from './map-in-map.js';
import { QueueMap, StackMap } from './queue-stack.js';
import { BloomFilter } from './bloom-filter.js';
import { DevMap, DevMapHash } from './devmap.js';
import { StackTraceMap } from './stack-trace.js';
import { CgroupArray } from './cgroup-array.js';
import { TaskStorageMap } from './task-storage.js';
import { InodeStorageMap } from './inode-storage.js';
import { SkStorageMap } from './sk-storage.js';
import { CgrpStorageMap } from './cgrp-storage.js';

export type MapClass = new (spec: MapSpec, ctx: MapContext) => BpfMap<unknown>;

/**
 * The class of each map type, for typed access by name:
 * `coll.map('counts', 'hash')` is a HashMap, `coll.map('events', 'ringbuf')`
 * a RingBuf. A type without an entry here has no tsbpf class.
 */
export interface MapTypes {
  array: ArrayMap;
  percpu_array: PerCpuArrayMap;
  hash: HashMap;
  percpu_hash: PerCpuHashMap;
  lru_hash: LruHashMap;
  lru_percpu_hash: LruPerCpuHashMap;
  lpm_trie: LpmTrie;
  ringbuf: RingBuf;
  perf_event_array: PerfEventArray;
  prog_array: ProgArray;
  array_of_maps: ArrayOfMaps;
  hash_of_maps: HashOfMaps;
  queue: QueueMap;
  stack: StackMap;
  bloom_filter: BloomFilter;
  devmap: DevMap;
  devmap_hash: DevMapHash;
  stack_trace: StackTraceMap;
  cgroup_array: CgroupArray;
  task_storage: TaskStorageMap;
  inode_storage: InodeStorageMap;
  sk_storage: SkStorageMap;
  cgrp_storage: CgrpStorageMap;
}

export const MAP_CLASSES: Readonly<Partial<Record<MapTypeName, MapClass>>> & { readonly [K in keyof MapTypes]: MapClass } = {
  array: ArrayMap,
  percpu_array: PerCpuArrayMap as MapClass,
  hash: HashMap,
  percpu_hash: PerCpuHashMap as MapClass,
  lru_hash: LruHashMap,
  lru_percpu_hash: LruPerCpuHashMap as MapClass,
  lpm_trie: LpmTrie,
  ringbuf: RingBuf as MapClass,
  perf_event_array: PerfEventArray,
  prog_array: ProgArray,
  array_of_maps: ArrayOfMaps,
  hash_of_maps: HashOfMaps,
  queue: QueueMap,
  stack: StackMap,
  bloom_filter: BloomFilter,
  devmap: DevMap,
  devmap_hash: DevMapHash,
  stack_trace: StackTraceMap,
  cgroup_array: CgroupArray,
  task_storage: TaskStorageMap,
  inode_storage: InodeStorageMap,
  sk_storage: SkStorageMap,
  cgrp_storage: CgrpStorageMap,
};
