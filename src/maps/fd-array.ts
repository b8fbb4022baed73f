/**
 * The shared shape of the kernel's "fd arrays" (kernel/bpf/arraymap.c:
 * prog_array, perf_event_array, array_of_maps): key is a u32 index, the
 * bpf(2) value is a u32 handle (a file descriptor in the kernel; an id here),
 * updates take only BPF_ANY, an index past the end is E2BIG, and — unlike a
 * plain array — slots can be empty and deleted (ENOENT when already empty).
 * get-next-key follows the array rules.
 */
import type { MapSpec } from '../object/spec.js';
import { arrayNextKey, BpfMap, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_ANY } from './flags.js';

export abstract class FdArray<T> extends BpfMap<Uint8Array> {
  /** occupied slots only (max_entries may be large and mostly empty) */
  protected readonly slots = new Map<number, T>();

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
  }

  protected index(key: KeyInput): number {
    const k = this.key(key);
    return (k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24)) >>> 0;
  }

  /** The u32 the host sees for a slot (program id, inner map id, ...). */
  protected abstract handleOf(v: T): number;
  /** Resolve the u32 the host writes into the slot's object (EBADF when unknown, EINVAL when incompatible). */
  protected abstract resolve(handle: number): T;
  /** A slot's object is going in / out (reference counting, descriptor words). */
  protected onStore(_index: number, _v: T | undefined, _old: T | undefined): void {}

  /** Host lookup: the handle (kernel: map_fd_sys_lookup_elem); ENOTSUPP where the kernel has none. */
  override get(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const i = this.index(key);
    const v = this.slots.get(i);
    if (v === undefined) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.handleOf(v), true);
    return out;
  }

  override set(key: KeyInput, value: ValueInput, flags = BPF_ANY): void {
    this.checkHostWrite();
    const v = this.value(value);
    if (flags !== BPF_ANY) throw this.err('EINVAL', `fd array updates take only BPF_ANY (got ${flags})`);
    const i = this.index(key);
    if (i >= this.maxEntries) throw this.err('E2BIG', `index ${i} >= max_entries ${this.maxEntries}`);
    const obj = this.resolve(new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true));
    this.store(i, obj);
  }

  /** Put an object in a slot directly (the runtime's initial contents). */
  store(i: number, obj: T | undefined): void {
    if (i >= this.maxEntries) throw this.err('E2BIG', `index ${i} >= max_entries ${this.maxEntries}`);
    const old = this.slots.get(i);
    if (obj === undefined) this.slots.delete(i);
    else this.slots.set(i, obj);
    this.onStore(i, obj, old);
  }

  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const i = this.index(key);
    if (i >= this.maxEntries) throw this.err('E2BIG', `index ${i} >= max_entries ${this.maxEntries}`);
    if (!this.slots.has(i)) throw this.err('ENOENT', `slot ${i} is empty`);
    this.store(i, undefined);
  }

  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    return arrayNextKey(key === undefined ? 0xffffffff : this.index(key), this.maxEntries);
  }

  /** Occupied slots (for dumps and pinning). */
  *occupied(): IterableIterator<[number, T]> {
    yield* [...this.slots.entries()].sort((a, b) => a[0] - b[0]);
  }

  protected override freeStorage(): void {
    for (const i of [...this.slots.keys()]) this.store(i, undefined);
  }
}
