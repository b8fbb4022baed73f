/**
 * Local storage maps (kernel/bpf/bpf_local_storage.c): a value per kernel
 * object (a task, an inode, a socket, a cgroup) rather than per key. A
 * program gets the value of an object it holds a pointer to with
 * bpf_<owner>_storage_get (creating it with BPF_LOCAL_STORAGE_GET_F_CREATE,
 * from an initial value or zeros) and drops it with
 * bpf_<owner>_storage_delete.
 *
 * Linux keys the syscall side by a file descriptor of the object (a pidfd
 * for task storage, a socket fd, a cgroup directory fd, a file's fd for its
 * inode); tsbpf has no descriptors, so the host names the object by its
 * address in the runtime's space (a kernel-model object's `addr`:
 * getFor/setFor/deleteFor), and the key-based get/set/delete refuse with
 * EBADF. Iterating the keys is refused as in Linux (no get_next_key:
 * ENOTSUPP).
 *
 * Each value is its own block of the space (a writable map_value region),
 * freed after the grace period when deleted.
 */
import { copyMapValue, zeroSpecialFields } from './special-fields.js';
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_EXIST, BPF_NOEXIST } from './flags.js';

/** sizeof(struct bpf_local_storage_elem) on x86-64 (its data is cacheline aligned) */
const LOCAL_STORAGE_ELEM_SIZE = 128;
/** BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: U16_MAX less the element header (KMALLOC_MAX_SIZE is far larger) */
export const LOCAL_STORAGE_MAX_VALUE_SIZE = 0xffff - LOCAL_STORAGE_ELEM_SIZE;

/** The kind of object a local storage map hangs values on. */
export type StorageOwner = 'task' | 'inode' | 'sk' | 'cgrp';

/** An object of the host's kernel (a kernel-model object): its address. */
export interface StorageOwnerRef {
  readonly addr: number;
}

interface Elem {
  addr: number;
  region: Region;
}

export abstract class LocalStorageMap extends BpfMap<Uint8Array> {
  abstract readonly owner: StorageOwner;
  private readonly elems = new Map<number, Elem>();

  constructor(spec: MapSpec, ctx: MapContext) {
    // max_entries is 0 (checked at create): the map has no fixed capacity
    super(spec, ctx);
  }

  /** How many objects have a value. */
  get size(): number {
    return this.elems.size;
  }

  private make(owner: number, init: Uint8Array | undefined, initAddr = 0): number {
    const addr = this.space.alloc(this.valueSize, 8);
    const region = this.space.addRegion({ base: addr, size: this.valueSize, kind: 'map_value', name: `map ${this.name} value of 0x${owner.toString(16)}`, writable: true });
    if (init) this.space.u8.set(init.subarray(0, this.valueSize), addr);
    else if (initAddr) this.space.u8.copyWithin(addr, initAddr, initAddr + this.valueSize);
    else this.space.u8.fill(0, addr, addr + this.valueSize);
    // a new element's lock and timer start zeroed (check_and_init_map_value)
    zeroSpecialFields(this.space.u8, addr, this.specialFields);
    this.elems.set(owner, { addr, region });
    return addr;
  }

  private drop(owner: number): boolean {
    const e = this.elems.get(owner);
    if (!e) return false;
    this.elems.delete(owner);
    this.space.removeRegion(e.region);
    this.space.retire(e.addr);
    return true;
  }

  // ---- the program's side (bpf_<owner>_storage_get / _delete)

  storageGet(owner: number, initAddr: number, create: boolean): number {
    const e = this.elems.get(owner);
    if (e) return e.addr;
    if (!create || owner === 0) return 0;
    return this.make(owner, undefined, initAddr);
  }

  storageDelete(owner: number): number {
    return this.drop(owner) ? 0 : errno('ENOENT');
  }

  // ---- the host's side, by object

  /** The object's value (a copy), undefined when it has none (the kernel's lookup by fd: ENOENT). */
  getFor(obj: StorageOwnerRef): Uint8Array | undefined {
    this.checkHostRead();
    const e = this.elems.get(obj.addr);
    if (!e) return undefined;
    const out = this.space.bytes(e.addr, this.valueSize).slice();
    zeroSpecialFields(out, 0, this.specialFields);
    return out;
  }

  /** Give the object a value (bpf_local_storage_update): BPF_NOEXIST when it has one is EEXIST, BPF_EXIST when it has none ENOENT. */
  setFor(obj: StorageOwnerRef, value: ValueInput, flags = 0): void {
    this.checkHostWrite();
    this.checkUpdateFlags(flags);
    const v = this.value(value);
    const e = this.elems.get(obj.addr);
    if (e && flags === BPF_NOEXIST) throw this.err('EEXIST', `0x${obj.addr.toString(16)} already has a value`);
    if (!e && flags === BPF_EXIST) throw this.err('ENOENT', `0x${obj.addr.toString(16)} has no value`);
    if (e) copyMapValue(this.space.u8, e.addr, v, this.valueSize, this.specialFields);
    else this.make(obj.addr, v);
  }

  /** Remove the object's value; ENOENT when it has none. */
  deleteFor(obj: StorageOwnerRef): void {
    this.checkHostWrite();
    if (!this.drop(obj.addr)) throw this.err('ENOENT', `0x${obj.addr.toString(16)} has no value`);
  }

  private byFd(): never {
    throw this.err('EBADF', `${this.type} maps are keyed by a file descriptor of the ${this.owner} in Linux; tsbpf has none: use getFor/setFor/deleteFor with the object`);
  }
  override get(_key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    return this.byFd();
  }
  override set(_key: KeyInput, _value: ValueInput, _flags = 0): void {
    this.checkHostWrite();
    this.byFd();
  }
  override delete(_key: KeyInput): void {
    this.checkHostWrite();
    this.byFd();
  }
  override has(key: KeyInput): boolean {
    return this.get(key) !== undefined;
  }
  /** notsupp_get_next_key: local storage maps cannot be walked by key */
  override nextKey(): Uint8Array | undefined {
    this.checkHostRead();
    throw this.err('ENOTSUPP', `${this.type} maps have no get_next_key`);
  }
  override *keys(): IterableIterator<Uint8Array> {
    this.nextKey();
  }

  protected override freeStorage(): void {
    for (const owner of [...this.elems.keys()]) this.drop(owner);
  }
}
