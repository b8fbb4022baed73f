/**
 * The batch commands of bpf(2) (BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH,
 * UPDATE_BATCH, DELETE_BATCH), apart from the single-element host API they
 * are built on: which map type has which (the kernel's map_ops->map_*_batch
 * pointers; a missing one is ENOTSUPP), the elem_flags check every batch
 * makes, and the generic forms (kernel/bpf/syscall.c generic_map_*_batch)
 * that walk get-next-key and call lookup, update or delete one element at a
 * time. Hash maps have their own bucket-wise lookup batches (hash.ts).
 */
import { TsbpfError } from '../errors.js';
import type { MapTypeName } from '../object/spec.js';
import { BPF_ANY, BPF_F_LOCK } from './flags.js';
import { MapError, type BatchResult, type KeyInput, type ValueInput } from './map.js';

export type BatchOp = 'lookup' | 'lookup_and_delete' | 'update' | 'delete';

/** The batch commands of each type: arrays lookup and update, lpm_trie also delete, hash kinds all four, other types none. */
const BATCH_OPS: Partial<Record<MapTypeName, readonly BatchOp[]>> = {
  array: ['lookup', 'update'],
  percpu_array: ['lookup', 'update'],
  array_of_maps: ['lookup', 'update'],
  lpm_trie: ['lookup', 'update', 'delete'],
  hash: ['lookup', 'lookup_and_delete', 'update', 'delete'],
  percpu_hash: ['lookup', 'lookup_and_delete', 'update', 'delete'],
  lru_hash: ['lookup', 'lookup_and_delete', 'update', 'delete'],
  lru_percpu_hash: ['lookup', 'lookup_and_delete', 'update', 'delete'],
  hash_of_maps: ['lookup', 'lookup_and_delete', 'update', 'delete'],
};

export function hasBatchOp(type: MapTypeName, op: BatchOp): boolean {
  return BATCH_OPS[type]?.includes(op) ?? false;
}

/** elem_flags of every batch command: only BPF_F_LOCK, and that only with a spin lock (none here). */
export function batchElemFlagsError(elemFlags: number): string | undefined {
  if (elemFlags & ~BPF_F_LOCK || elemFlags < 0) return `bad batch elem_flags ${elemFlags}`;
  if (elemFlags & BPF_F_LOCK) return 'BPF_F_LOCK needs a bpf_spin_lock in the value';
  return undefined;
}

/** The single-element host commands the generic batches are made of. */
interface ElementHost<V> {
  get(key: KeyInput): V | undefined;
  set(key: KeyInput, value: V | ValueInput, flags?: number): void;
  delete(key: KeyInput): void;
  nextKey(key?: KeyInput): Uint8Array | undefined;
}

/**
 * generic_map_lookup_batch: walks next-key from `cursor` (the last key of
 * the previous batch), at most `count` elements; `done` when the walk hit
 * the end (ENOENT).
 */
export function genericLookupBatch<V>(map: ElementHost<V>, count: number, cursor: Uint8Array | undefined): BatchResult<V> {
  const keys: Uint8Array[] = [];
  const values: V[] = [];
  if (count <= 0) return { keys, values, cursor, done: false };
  let prev = cursor;
  let done = false;
  while (keys.length < count) {
    const k = map.nextKey(prev);
    if (k === undefined) {
      done = true;
      break;
    }
    const v = map.get(k);
    prev = k;
    if (v === undefined) continue;
    keys.push(k);
    values.push(v);
  }
  return { keys, values, cursor: keys.length > 0 ? keys[keys.length - 1] : cursor, done };
}

/** Run `one` for each index, stopping at the first failure, which is thrown with `count` = elements done. */
function eachElement(n: number, one: (i: number) => void): number {
  for (let i = 0; i < n; i++) {
    try {
      one(i);
    } catch (e) {
      if (e instanceof TsbpfError) throw new MapError(e.errno, e.message, undefined, i);
      throw e;
    }
  }
  return n;
}

/** generic_map_update_batch: every element with BPF_ANY. */
export function genericUpdateBatch<V>(map: ElementHost<V>, keys: KeyInput[], values: Array<V | ValueInput>): number {
  return eachElement(keys.length, (i) => map.set(keys[i]!, values[i]!, BPF_ANY));
}

/** generic_map_delete_batch. */
export function genericDeleteBatch<V>(map: ElementHost<V>, keys: KeyInput[]): number {
  return eachElement(keys.length, (i) => map.delete(keys[i]!));
}
