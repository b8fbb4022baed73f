/**
 * The maps layer: every map type tsbpf implements, and `createMap`, which
 * checks a MapSpec the way the kernel's map_create / map_alloc_check do
 * before making the map (EINVAL, E2BIG, ENOTSUPP as the kernel answers).
 *
 * A map is three things kept apart (see map.ts): its descriptor
 * (descriptor.ts: `type`, `keySize`, `valueSize`, `maxEntries`, `flags`, BTF
 * ids, and `addr`, the map pointer programs hold); its program-side
 * operations (ops.ts, `map.ops`: lookupElem/updateElem/deleteElem/pushElem/
 * popElem/peekElem, addresses in, helper return values out, as the kernel's
 * bpf_map_ops); and the host API (`get/getView/set/delete/has/nextKey/keys/
 * values/entries/freeze/pin/close`, throwing MapError with the kernel's
 * errno), with the batch commands in batch.ts. Pins go through one PinStore
 * (pin-store.ts). Array kinds expose `valuesAddr`/`elemSize` for inlined
 * lookups. `MapTable` maps ids and descriptor addresses back to maps.
 */
import type { MapSpec } from '../object/spec.js';
import { BpfMap, MapError, type MapContext } from './map.js';
import { MAP_CLASSES } from './classes.js';
import {
  BPF_F_ACCESS_MASK,
  BPF_F_INNER_MAP,
  BPF_F_MMAPABLE,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NO_PREALLOC,
  BPF_F_CLONE,
  BPF_F_NUMA_NODE,
  BPF_F_PRESERVE_ELEMS,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_STACK_BUILD_ID,
  BPF_F_WRONLY,
  BPF_F_WRONLY_PROG,
  BPF_F_ZERO_SEED,
  KMALLOC_MAX_SIZE,
  PAGE_SIZE,
  PCPU_MIN_UNIT_SIZE,
  isPowerOf2,
  roundUp,
} from './flags.js';
import { BUILD_ID_ENTRY_SIZE, PERF_MAX_STACK_DEPTH } from '../uapi/stack-trace.js';
import { LOCAL_STORAGE_MAX_VALUE_SIZE } from './local-storage.js';

export * from './map.js';
export * from './flags.js';
export { type MapDescriptor } from './descriptor.js';
export { UNSUPPORTED, opsOf, type MapOps, type MapOpsTable } from './ops.js';
export { hasBatchOp, type BatchOp } from './batch.js';
export { pinPathOf, type PinStore, type PinOptions, type OpenPinOptions } from './pin-store.js';
export { ArrayMap, PerCpuArrayMap } from './array.js';
export { HashMap, PerCpuHashMap, HashBase } from './hash.js';
export { LruHashMap, LruPerCpuHashMap } from './lru-hash.js';
export { LpmTrie } from './lpm-trie.js';
export { RingBuf, type RingBufStats } from './ringbuf.js';
export { RingBufReader, type RingBufReaderOptions } from './ringbuf-reader.js';
export { PerfEventArray, PerfBuffer, type PerfRecord } from './perf-event-array.js';
export { ProgArray } from './prog-array.js';
export { ArrayOfMaps, HashOfMaps, checkInnerMap } from './map-in-map.js';
export { QueueMap, StackMap } from './queue-stack.js';
export { BloomFilter } from './bloom-filter.js';
export { StackTraceMap } from './stack-trace.js';
export { CgroupArray } from './cgroup-array.js';
export { LocalStorageMap, LOCAL_STORAGE_MAX_VALUE_SIZE, type StorageOwner, type StorageOwnerRef } from './local-storage.js';
export { TaskStorageMap } from './task-storage.js';
export { InodeStorageMap } from './inode-storage.js';
export { SkStorageMap } from './sk-storage.js';
export { CgrpStorageMap } from './cgrp-storage.js';
export { DevMap, DevMapHash } from './devmap.js';
export { TypedMap, type TypedMapOptions } from './typed.js';

const HTAB_ELEM_SIZE = 48; // sizeof(struct htab_elem) on x86-64
const LPM_NODE_SIZE = 32; // sizeof(struct lpm_trie_node) without data
const ARRAY_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
const HTAB_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
const LPM_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const QUEUE_STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const BLOOM_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;
const RINGBUF_CREATE_FLAG_MASK = BPF_F_NUMA_NODE;
const STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;

/** bpf_map_flags_access_ok: not both read-only and write-only, on either side. */
function accessOk(flags: number): boolean {
  return !((flags & BPF_F_RDONLY_PROG && flags & BPF_F_WRONLY_PROG) || (flags & BPF_F_RDONLY && flags & BPF_F_WRONLY));
}

/**
 * Check a spec as the kernel's map_create and the type's map_alloc_check
 * would, throwing MapError(EINVAL | E2BIG | ENOTSUPP | EOPNOTSUPP).
 */
export function checkMapSpec(spec: MapSpec): void {
  const { type, keySize: ks, valueSize: vs, maxEntries: me, flags } = spec;
  const fail = (e: 'EINVAL' | 'E2BIG' | 'ENOTSUPP' | 'EOPNOTSUPP', why: string): never => {
    throw new MapError(e, why, spec.name);
  };
  for (const [k, v] of [['key_size', ks], ['value_size', vs], ['max_entries', me], ['map_flags', flags]] as const)
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) fail('EINVAL', `${k} ${v} is not a u32`);
  if (spec.mapExtra && type !== 'bloom_filter' && type !== 'arena') fail('EINVAL', 'map_extra is only for bloom filters and arenas');
  if (!accessOk(flags)) fail('EINVAL', 'map_flags ask for both read-only and write-only access');
  const arrayCheck = (): void => {
    const percpu = type === 'percpu_array';
    if (me === 0 || ks !== 4 || vs === 0) fail('EINVAL', `${type} needs key_size 4, value_size > 0, max_entries > 0`);
    if (flags & ~ARRAY_CREATE_FLAG_MASK) fail('EINVAL', `map_flags 0x${flags.toString(16)} not allowed for ${type}`);
    if (percpu && flags & BPF_F_NUMA_NODE) fail('EINVAL', 'per-CPU maps cannot be bound to a NUMA node');
    if (type !== 'array' && flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)) fail('EINVAL', 'BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for array maps');
    if (type !== 'perf_event_array' && flags & BPF_F_PRESERVE_ELEMS) fail('EINVAL', 'BPF_F_PRESERVE_ELEMS is only for perf_event_array');
    if (vs > 0x7fffffff) fail('E2BIG', 'value_size too large');
    if (percpu && roundUp(vs, 8) > PCPU_MIN_UNIT_SIZE) fail('E2BIG', `per-CPU value_size ${vs} > ${PCPU_MIN_UNIT_SIZE}`);
  };
  const fdArrayCheck = (): void => {
    if (vs !== 4) fail('EINVAL', `${type} values are 4-byte handles (value_size ${vs})`);
    if (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) fail('EINVAL', `${type} does not take BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG`);
    arrayCheck();
  };
  const htabCheck = (): void => {
    const percpu = type === 'percpu_hash' || type === 'lru_percpu_hash';
    const lru = type === 'lru_hash' || type === 'lru_percpu_hash';
    if (flags & ~HTAB_CREATE_FLAG_MASK || !accessOk(flags)) fail('EINVAL', `map_flags 0x${flags.toString(16)} not allowed for ${type}`);
    if (!lru && flags & BPF_F_NO_COMMON_LRU) fail('EINVAL', 'BPF_F_NO_COMMON_LRU is only for LRU maps');
    if (lru && flags & BPF_F_NO_PREALLOC) fail('ENOTSUPP', 'LRU maps are always preallocated (BPF_F_NO_PREALLOC)');
    if (flags & BPF_F_NUMA_NODE && (percpu || flags & BPF_F_NO_COMMON_LRU)) fail('EINVAL', 'per-CPU maps cannot be bound to a NUMA node');
    if (me === 0 || ks === 0 || vs === 0) fail('EINVAL', `${type} needs key_size, value_size and max_entries > 0`);
    if (ks + vs >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) fail('E2BIG', 'key_size + value_size too large');
    // htab_map_alloc: roundup_pow_of_two(max_entries) buckets of 16 bytes must fit in a u32 size
    if (me > 1 << 27) fail('E2BIG', `max_entries ${me} needs more than 2^28 buckets`);
    if (percpu && roundUp(vs, 8) > PCPU_MIN_UNIT_SIZE) fail('E2BIG', `per-CPU value_size ${vs} > ${PCPU_MIN_UNIT_SIZE}`);
  };
  switch (type) {
    case 'array':
    case 'percpu_array':
      return arrayCheck();
    case 'prog_array':
    case 'perf_event_array':
    case 'cgroup_array':
      return fdArrayCheck();
    case 'array_of_maps':
      fdArrayCheck();
      if (!spec.innerMap) fail('EINVAL', 'array_of_maps needs an inner map template');
      return checkInnerTemplate(spec);
    case 'hash':
    case 'percpu_hash':
    case 'lru_hash':
    case 'lru_percpu_hash':
      return htabCheck();
    case 'hash_of_maps':
      if (vs !== 4) fail('EINVAL', `hash_of_maps values are 4-byte map ids (value_size ${vs})`);
      htabCheck();
      if (!spec.innerMap) fail('EINVAL', 'hash_of_maps needs an inner map template');
      return checkInnerTemplate(spec);
    case 'lpm_trie':
      if (me === 0 || !(flags & BPF_F_NO_PREALLOC) || flags & ~LPM_CREATE_FLAG_MASK || ks < 5 || ks > 4 + 256 || vs < 1 || vs > KMALLOC_MAX_SIZE - 256 - LPM_NODE_SIZE)
        fail('EINVAL', 'lpm_trie needs BPF_F_NO_PREALLOC, key_size 5..260 (u32 prefixlen + data), value_size > 0, max_entries > 0');
      return;
    case 'queue':
    case 'stack':
      if (me === 0 || ks !== 0 || vs === 0 || flags & ~QUEUE_STACK_CREATE_FLAG_MASK) fail('EINVAL', `${type} needs key_size 0, value_size > 0, max_entries > 0`);
      if (vs > KMALLOC_MAX_SIZE) fail('E2BIG', 'value_size too large');
      return;
    case 'bloom_filter':
      if (ks !== 0 || vs === 0 || me === 0 || flags & ~BLOOM_CREATE_FLAG_MASK || (spec.mapExtra ?? 0n) & ~0xfn)
        fail('EINVAL', 'bloom_filter needs key_size 0, value_size > 0, max_entries > 0, map_extra (hash count) 0..15');
      return;
    case 'devmap':
    case 'devmap_hash':
      // dev_map_alloc_check: key u32, value struct bpf_devmap_val up to ifindex or up to bpf_prog.fd.
      if (me === 0 || ks !== 4 || (vs !== 4 && vs !== 8) || flags & ~(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY))
        fail('EINVAL', `${type} needs key_size 4, value_size 4 or 8, max_entries > 0, map_flags within NUMA_NODE|RDONLY|WRONLY`);
      if (type === 'devmap_hash' && me > 2 ** 31) fail('EINVAL', 'devmap_hash max_entries > 2^31');
      return;
    case 'stack_trace': {
      // stack_map_alloc: u32 ids; values of u64 ips (or struct bpf_stack_build_id), at most perf_event_max_stack of them.
      if (flags & ~STACK_CREATE_FLAG_MASK) fail('EINVAL', `map_flags 0x${flags.toString(16)} not allowed for stack_trace`);
      if (me === 0 || ks !== 4 || vs < 8 || vs % 8) fail('EINVAL', 'stack_trace needs key_size 4, value_size a multiple of 8, max_entries > 0');
      const frame = flags & BPF_F_STACK_BUILD_ID ? BUILD_ID_ENTRY_SIZE : 8;
      if (vs % frame || vs / frame > PERF_MAX_STACK_DEPTH)
        fail('EINVAL', `stack_trace value_size ${vs} must hold whole ${frame}-byte frames, at most ${PERF_MAX_STACK_DEPTH} (perf_event_max_stack)`);
      if (me > 2 ** 31) fail('E2BIG', `stack_trace max_entries ${me} > 2^31`);
      return;
    }
    case 'ringbuf':
      if (flags & ~RINGBUF_CREATE_FLAG_MASK) fail('EINVAL', `map_flags 0x${flags.toString(16)} not allowed for ringbuf`);
      if (ks || vs || !isPowerOf2(me) || me % PAGE_SIZE !== 0)
        fail('EINVAL', `ringbuf needs key_size 0, value_size 0 and max_entries a power of 2 multiple of ${PAGE_SIZE} (got ${me})`);
      return;
    case 'task_storage':
    case 'inode_storage':
    case 'sk_storage':
    case 'cgrp_storage':
      // bpf_local_storage_map_alloc_check: no capacity, an int (fd) key, BTF for the value (the kernel's dumps need it)
      if (flags & ~(BPF_F_NO_PREALLOC | BPF_F_CLONE) || !(flags & BPF_F_NO_PREALLOC) || me !== 0 || ks !== 4 || vs === 0 || !spec.btfKeyTypeId || !spec.btfValueTypeId)
        fail('EINVAL', `${type} needs map_flags BPF_F_NO_PREALLOC (and at most BPF_F_CLONE), max_entries 0, key_size 4 (an fd), value_size > 0, and BTF key and value types`);
      if (vs > LOCAL_STORAGE_MAX_VALUE_SIZE) fail('E2BIG', `${type} value_size ${vs} > ${LOCAL_STORAGE_MAX_VALUE_SIZE}`);
      return;
    default:
      fail('EOPNOTSUPP', `map type ${type} is not supported by tsbpf`);
  }
}

function checkInnerTemplate(spec: MapSpec): void {
  const t = spec.innerMap!;
  if (t.type === 'array_of_maps' || t.type === 'hash_of_maps') throw new MapError('EINVAL', 'map-in-map cannot nest more than one level', spec.name);
  if (t.type === 'prog_array') throw new MapError('ENOTSUPP', 'prog_array cannot be an inner map', spec.name);
  checkMapSpec(t);
}

/** Make a map from a spec (after checkMapSpec). Initial `contents` are the runtime's job. */
export function createMap(spec: MapSpec, ctx: MapContext): BpfMap<unknown> {
  checkMapSpec(spec);
  const cls = MAP_CLASSES[spec.type];
  if (!cls) throw new MapError('EOPNOTSUPP', `map type ${spec.type} is not supported by tsbpf`, spec.name);
  return new cls(spec, ctx);
}
