/**
 * The map interface every map type implements (kernel: struct bpf_map and
 * struct bpf_map_ops), in two halves:
 *
 * - the program side (`lookupElem`, `updateElem`, `deleteElem`, `pushElem`,
 *   `popElem`, `peekElem`): arguments are addresses in the runtime's
 *   AddressSpace and results are what the helper returns to the program (an
 *   address or 0; 0 or a negative errno). These never throw for conditions a
 *   program can cause.
 * - the host side (`get`, `set`, `delete`, `has`, `nextKey`, iteration,
 *   batches, `freeze`, `close`): the bpf(2) commands, with keys and values as
 *   bytes (or numbers/bigints for small ones). Conditions bpf(2) reports as an
 *   errno throw a `MapError` carrying that errno.
 *
 * Storage lives in the AddressSpace, so a value pointer handed to a program
 * is a real address and the host can read it without a copy (`getView`).
 * Every map also owns a small descriptor block there; its address (`addr`) is
 * the map "pointer" a program holds after `lddw r1, map`, and `MapTable.byAddr`
 * turns it back into the map. Descriptor layout (all u32, little-endian):
 *   +0 type  +4 key_size  +8 value_size  +12 max_entries  +16 map_flags
 *   +20 id   +24 values address (array kinds, else 0)  +28 elem size
 */
import { TsbpfError, type Errno, ERRNO_VALUES } from '../errors.js';
import type { AddressSpace, Region } from '../vm/memory.js';
import { MapType, type MapSpec, type MapTypeName } from '../object/spec.js';
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
} from './flags.js';

/** A bpf(2)-side failure on a map, with the kernel's errno. */
export class MapError extends TsbpfError {
  constructor(
    errno: Errno,
    message: string,
    /** the map's name, when known */
    readonly map?: string,
    /** for batch operations: how many elements were processed before the error */
    readonly count?: number,
  ) {
    super(errno, map !== undefined ? `map ${map}: ${message}` : message);
  }
}

export type KeyInput = Uint8Array | bigint | number;
export type ValueInput = Uint8Array | bigint | number;

/**
 * A program reference the runtime stores in a prog_array: its id and the
 * facts prog_array ownership compares (prog-array.ts, the kernel's
 * __bpf_prog_map_compatible). A reference without `type` is opaque (maps
 * made outside a runtime) and takes no part in ownership.
 */
export interface ProgramRef {
  readonly id: number;
  readonly name?: string;
  readonly type?: string;
  /** expected_attach_type (the section's attach type), when the program has one */
  readonly expectedAttachType?: string | undefined;
  /** compiled by the JIT (the kernel's fp->jited); false for the interpreter */
  readonly jited?: boolean;
  /** BPF_F_XDP_HAS_FRAGS (SEC("xdp.frags")) */
  readonly xdpHasFrags?: boolean;
  /** BPF_F_SLEEPABLE */
  readonly sleepable?: boolean;
  /** tracing programs: identity of the attach target's BTF function prototype (aux->attach_func_proto) */
  readonly attachFuncProto?: number | undefined;
}

/** What a map needs from the runtime that creates it. */
export interface MapContext {
  space: AddressSpace;
  /** CPUs of the runtime (per-CPU slots). The runtime passes os.availableParallelism(); default 1. */
  numCpus?: number;
  /** Registry for ids and descriptor addresses; a private one is made when absent. */
  table?: MapTable;
  /** prog_array: resolves a program id given from the host. */
  programs?: { byId(id: number): ProgramRef | undefined };
  /**
   * Open a map another thread made in this (shared) address space instead of
   * making one: its id, descriptor address and the type's state block
   * (src/runtime/shared.ts). Nothing is allocated or initialised.
   */
  attach?: MapAttach;
  /** devmap: the network devices an update may name (by ifindex); absent: any ifindex is taken. */
  devices?: { has(ifindex: number): boolean };
}

/** Where an existing map lives in a shared address space (MapContext.attach). */
export interface MapAttach {
  id: number;
  /** descriptor address (the map pointer programs hold) */
  addr: number;
  /** the type's state block (hash table block, ring control block), 0 when the descriptor says it all */
  state: number;
}

export interface BatchResult<V> {
  keys: Uint8Array[];
  values: V[];
  /** cursor to pass as `cursor` for the next call (bpf(2)'s out_batch) */
  cursor: Uint8Array | undefined;
  /** the kernel returned ENOENT: the walk reached the end of the map */
  done: boolean;
}

/**
 * The fields of the kernel's `struct bpf_map` that a program may read through
 * its map pointer (Linux's check_ptr_to_map_access; verifier/check.ts admits
 * exactly these), at their offsets in the layout of Linux 6.18 (vmlinux BTF;
 * src/verifier/kernel-btf.ts ships the same layout and
 * test/verifier-semantics.test.ts checks that the two agree). The descriptor
 * is as large as struct bpf_map; the tsbpf words above overlay its leading
 * `sha` bytes.
 */
export const BPF_MAP_FIELDS = {
  map_type: 64, key_size: 68, value_size: 72, max_entries: 76, map_extra: 80, map_flags: 88, id: 92,
  numa_node: 104, btf_key_type_id: 108, btf_value_type_id: 112, name: 136, frozen: 257,
} as const;

export const DESC_SIZE = 296;

/** Batch commands per type: l = lookup, x = lookup_and_delete, u = update, d = delete. */
const BATCH_OPS: Partial<Record<MapTypeName, string>> = {
  array: 'lu',
  percpu_array: 'lu',
  array_of_maps: 'lu',
  lpm_trie: 'lud',
  hash: 'lxud',
  percpu_hash: 'lxud',
  lru_hash: 'lxud',
  lru_percpu_hash: 'lxud',
  hash_of_maps: 'lxud',
};
const BATCH_NAMES = { l: 'lookup', x: 'lookup_and_delete', u: 'update', d: 'delete' } as const;

export function errno(e: Errno): number {
  return -ERRNO_VALUES[e];
}

/** Encode a number/bigint little-endian into `size` bytes (keys and values of up to 8 bytes). */
export function toBytes(v: Uint8Array | bigint | number, size: number, what: string, map?: string): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== size) throw new MapError('EINVAL', `${what} is ${v.length} bytes, map wants ${size}`, map);
    return v;
  }
  if (size > 8 || size === 0) throw new MapError('EINVAL', `a ${size}-byte ${what} must be given as bytes`, map);
  if (typeof v === 'number' && !Number.isInteger(v)) throw new MapError('EINVAL', `${what} ${v} is not an integer`, map);
  if (typeof v === 'number' && v >= 0 && v <= 0xffffffff) {
    // Fast path for the common small non-negative integer key.
    const out = new Uint8Array(size);
    for (let i = 0; i < size && i < 4; i++) out[i] = (v >>> (8 * i)) & 0xff;
    if (size < 4 && v >>> (8 * size) !== 0) return toBytes(BigInt(v), size, what, map);
    return out;
  }
  let b = BigInt.asUintN(size * 8, BigInt(v));
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = Number(b & 0xffn);
    b >>= 8n;
  }
  return out;
}

/**
 * Ids and descriptor addresses of the live maps of one runtime (kernel:
 * map_idr). Helpers find a map from the pointer a program passes with
 * `byAddr`; the host and pin files name maps by `id`.
 */
export class MapTable {
  private lastId = 0;
  private readonly ids = new Map<number, BpfMap<unknown>>();
  private readonly addrs = new Map<number, BpfMap<unknown>>();
  private readonly rings: BpfMap<unknown>[] = [];
  allocId(): number {
    return ++this.lastId;
  }
  add(m: BpfMap<unknown>): void {
    this.ids.set(m.id, m);
    this.addrs.set(m.addr, m);
    if (m.type === 'ringbuf') this.rings.push(m);
  }
  /** The map's id is gone (bpf_map_free_id): the host can no longer find it; programs still in flight still can by address. */
  unpublish(m: BpfMap<unknown>): void {
    if (this.ids.get(m.id) === m) this.ids.delete(m.id);
  }
  /** The map's memory is gone (after the grace period): nothing finds it any more. */
  remove(m: BpfMap<unknown>): void {
    const r = this.rings.indexOf(m);
    if (r >= 0) this.rings.splice(r, 1);
    this.unpublish(m);
    if (this.addrs.get(m.addr) === m) this.addrs.delete(m.addr);
  }
  byId(id: number): BpfMap<unknown> | undefined {
    return this.ids.get(id);
  }
  byAddr(addr: number): BpfMap<unknown> | undefined {
    return this.addrs.get(addr);
  }
  /** The ring buffer whose data area holds `addr` (bpf_ringbuf_submit/discard get only the sample pointer). */
  ringbufFor(addr: number): BpfMap<unknown> | undefined {
    for (const m of this.rings) {
      const r = m as unknown as { containsSample?(a: number): boolean };
      if (r.containsSample?.(addr)) return m;
    }
    return undefined;
  }
  values(): IterableIterator<BpfMap<unknown>> {
    return this.ids.values();
  }
}

/**
 * get_next_key of every index-keyed map (array_map_get_next_key): a missing
 * or out-of-range key restarts at index 0, the last index ends the walk.
 */
export function arrayNextKey(index: number, maxEntries: number): Uint8Array | undefined {
  let next: number;
  if (index >= maxEntries) next = 0;
  else if (index === maxEntries - 1) return undefined;
  else next = index + 1;
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, next, true);
  return out;
}

export abstract class BpfMap<V = Uint8Array> {
  readonly spec: MapSpec;
  readonly type: MapTypeName;
  readonly name: string;
  readonly id: number;
  /** descriptor address: the map pointer programs hold */
  readonly addr: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly numCpus: number;
  readonly space: AddressSpace;
  /** cached bytes of the space, for hot paths */
  protected readonly mem: MemCache;
  readonly table: MapTable;
  frozen = false;
  closed = false;
  /**
   * The host access mode of this handle, as a map fd's f_mode. As in the
   * kernel (bpf_get_file_flag), BPF_F_RDONLY / BPF_F_WRONLY in map_flags set
   * the mode of the handle map creation returns, not of the map: a handle
   * reopened from a pin (BPF_OBJ_GET) is read-write unless asked otherwise.
   */
  fileMode: 'rw' | 'r' | 'w';
  /** references from map-in-map slots: storage is released when the map is closed and unreferenced */
  private refs = 0;
  private descRegion: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext, maxEntries = spec.maxEntries) {
    this.spec = spec;
    this.type = spec.type;
    this.name = spec.name;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = maxEntries;
    this.flags = spec.flags;
    this.numCpus = Math.max(1, ctx.numCpus ?? 1);
    this.fileMode = spec.flags & BPF_F_RDONLY ? 'r' : spec.flags & BPF_F_WRONLY ? 'w' : 'rw';
    this.space = ctx.space;
    this.mem = new MemCache(ctx.space);
    this.table = ctx.table ?? new MapTable();
    if (ctx.attach) {
      // Another thread's map: same id and descriptor (already written there).
      this.id = ctx.attach.id;
      this.addr = ctx.attach.addr;
      this.descRegion = ctx.space.addRegion({ base: this.addr, size: DESC_SIZE, kind: 'map', name: `map ${spec.name}`, writable: false });
      this.table.add(this as BpfMap<unknown>);
      return;
    }
    this.id = this.table.allocId();
    this.addr = ctx.space.alloc(DESC_SIZE);
    this.descRegion = ctx.space.addRegion({ base: this.addr, size: DESC_SIZE, kind: 'map', name: `map ${spec.name}`, writable: false });
    const s = ctx.space;
    s.writeU32(this.addr, MapType[spec.type]);
    s.writeU32(this.addr + 4, this.keySize);
    s.writeU32(this.addr + 8, this.valueSize);
    s.writeU32(this.addr + 12, maxEntries);
    s.writeU32(this.addr + 16, this.flags >>> 0);
    s.writeU32(this.addr + 20, this.id);
    // struct bpf_map's readable fields (see BPF_MAP_FIELDS)
    const F = BPF_MAP_FIELDS;
    s.writeU32(this.addr + F.map_type, MapType[spec.type]);
    s.writeU32(this.addr + F.key_size, this.keySize);
    s.writeU32(this.addr + F.value_size, this.valueSize);
    s.writeU32(this.addr + F.max_entries, maxEntries);
    s.writeU64(this.addr + F.map_extra, BigInt.asUintN(64, spec.mapExtra ?? 0n));
    s.writeU32(this.addr + F.map_flags, this.flags >>> 0);
    s.writeU32(this.addr + F.id, this.id);
    s.writeU32(this.addr + F.numa_node, (spec.numaNode ?? -1) >>> 0); // NUMA_NO_NODE unless asked
    s.writeU32(this.addr + F.btf_key_type_id, spec.btfKeyTypeId ?? 0);
    s.writeU32(this.addr + F.btf_value_type_id, spec.btfValueTypeId ?? 0);
    s.write(this.addr + F.name, new TextEncoder().encode(spec.name).subarray(0, 15)); // BPF_OBJ_NAME_LEN - 1, NUL-terminated
    this.table.add(this as BpfMap<unknown>);
  }

  /** Per-CPU maps expose one value per CPU on the host side. */
  get perCpu(): boolean {
    return false;
  }

  /** Record the values area in the descriptor (array kinds, for the JIT). */
  protected setDescriptorValues(valuesAddr: number, elemSize: number): void {
    this.space.writeU32(this.addr + 24, valuesAddr);
    this.space.writeU32(this.addr + 28, elemSize);
  }

  // ---- program side (helpers). Defaults: the operation does not apply to this type.

  /** bpf_map_lookup_elem: the value's address for `cpu`, or 0. */
  lookupElem(_keyAddr: number, _cpu = 0): number {
    return 0;
  }
  /** bpf_map_update_elem: 0 or a negative errno. */
  updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu = 0): number {
    return errno('EINVAL');
  }
  /** bpf_map_delete_elem: 0 or a negative errno. */
  deleteElem(_keyAddr: number, _cpu = 0): number {
    return errno('EINVAL');
  }
  /** bpf_map_push_elem (queue, stack, bloom filter). */
  pushElem(_valueAddr: number, _flags: number, _cpu = 0): number {
    return errno('ENOTSUPP');
  }
  /** bpf_map_pop_elem: copies the value to `valueAddr`. */
  popElem(_valueAddr: number, _cpu = 0): number {
    return errno('ENOTSUPP');
  }
  /** bpf_map_peek_elem (for bloom filters: 0 when maybe present, -ENOENT when surely absent). */
  peekElem(_valueAddr: number, _cpu = 0): number {
    return errno('ENOTSUPP');
  }

  /** Program-side write check: BPF_F_RDONLY_PROG maps refuse writes (the verifier rejects them at load; this is the runtime backstop). */
  protected progWriteDenied(): boolean {
    return (this.flags & BPF_F_RDONLY_PROG) !== 0;
  }

  // ---- host side (bpf(2) commands).

  /** BPF_MAP_LOOKUP_ELEM: a copy of the value, or undefined (ENOENT). */
  abstract get(key: KeyInput): V | undefined;
  /** A view (no copy) of the value in the address space, for `cpu` on per-CPU maps. Invalidated if the space grows. */
  getView(_key: KeyInput, _cpu = 0): Uint8Array | undefined {
    throw this.err('EINVAL', 'this map type has no value views');
  }
  /** BPF_MAP_UPDATE_ELEM. */
  abstract set(key: KeyInput, value: V | ValueInput, flags?: number): void;
  /** BPF_MAP_DELETE_ELEM: throws ENOENT when absent (arrays: EINVAL). */
  abstract delete(key: KeyInput): void;
  /** BPF_MAP_GET_NEXT_KEY: undefined at the end (ENOENT). */
  abstract nextKey(key?: KeyInput): Uint8Array | undefined;

  has(key: KeyInput): boolean {
    return this.get(key) !== undefined;
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: hash kinds and queue/stack (pop); other types have no map_lookup_and_delete_elem (ENOTSUPP). */
  lookupAndDelete(_key: KeyInput): V | undefined {
    this.checkHostWrite();
    throw this.err('ENOTSUPP', `lookup_and_delete is not supported for ${this.type}`);
  }

  *keys(): IterableIterator<Uint8Array> {
    let k = this.nextKey();
    // Walk like `bpftool map dump` does: next-key from the previous key.
    let guard = 0;
    while (k !== undefined) {
      yield k;
      k = this.nextKey(k);
      if (++guard > this.maxEntries * 2 + 16) throw this.err('ELOOP', 'key iteration did not terminate');
    }
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  *entries(): IterableIterator<[Uint8Array, V]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }
  [Symbol.iterator](): IterableIterator<[Uint8Array, V]> {
    return this.entries();
  }

  /**
   * Which batch commands the type has (kernel: map_ops->map_*_batch; a
   * missing one is ENOTSUPP): arrays and array_of_maps lookup and update,
   * lpm_trie also delete, hash kinds all four, other types none.
   */
  protected batchOps(): string {
    return BATCH_OPS[this.type] ?? '';
  }
  /** bpf_map_do_batch's checks, in its order: access mode (EPERM), then the op's presence (ENOTSUPP). */
  protected checkBatch(op: 'l' | 'x' | 'u' | 'd'): void {
    this.checkOpen();
    if (op !== 'u' && op !== 'd') this.checkHostRead();
    if (op !== 'l') this.checkHostWrite();
    if (!this.batchOps().includes(op)) throw this.err('ENOTSUPP', `${this.type} maps have no ${BATCH_NAMES[op]} batch command`);
  }
  /** elem_flags of every batch command: only BPF_F_LOCK, and that only with a spin lock (none here). */
  protected checkElemFlags(elemFlags: number): void {
    if (elemFlags & ~BPF_F_LOCK || elemFlags < 0) throw this.err('EINVAL', `bad batch elem_flags ${elemFlags}`);
    if (elemFlags & BPF_F_LOCK) throw this.err('EINVAL', 'BPF_F_LOCK needs a bpf_spin_lock in the value');
  }

  /**
   * BPF_MAP_LOOKUP_BATCH, generic form (kernel: generic_map_lookup_batch):
   * walks next-key from `cursor` (the last key of the previous batch), at
   * most `count` elements; `done` when the walk hit the end (ENOENT).
   */
  lookupBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<V> {
    this.checkBatch('l');
    return this.genericLookupBatch(count, cursor, elemFlags);
  }
  /** BPF_MAP_LOOKUP_AND_DELETE_BATCH: hash kinds only (others ENOTSUPP). */
  lookupAndDeleteBatch(_count: number, _cursor?: Uint8Array, _elemFlags = 0): BatchResult<V> {
    this.checkBatch('x');
    throw this.err('ENOTSUPP', 'lookup_and_delete_batch is not supported by this map type');
  }
  /**
   * BPF_MAP_UPDATE_BATCH (generic_map_update_batch): every element with
   * BPF_ANY (elem_flags take only BPF_F_LOCK); stops at the first failure,
   * which is thrown with `count` = elements done.
   */
  updateBatch(keys: KeyInput[], values: Array<V | ValueInput>, elemFlags = 0): number {
    this.checkBatch('u');
    this.checkElemFlags(elemFlags);
    if (keys.length !== values.length) throw this.err('EINVAL', 'keys and values differ in length');
    for (let i = 0; i < keys.length; i++) {
      try {
        this.set(keys[i]!, values[i]!, BPF_ANY);
      } catch (e) {
        if (e instanceof TsbpfError) throw new MapError(e.errno, e.message, undefined, i);
        throw e;
      }
    }
    return keys.length;
  }
  /** BPF_MAP_DELETE_BATCH (generic_map_delete_batch): stops at the first failure, thrown with `count`. */
  deleteBatch(keys: KeyInput[], elemFlags = 0): number {
    this.checkBatch('d');
    this.checkElemFlags(elemFlags);
    for (let i = 0; i < keys.length; i++) {
      try {
        this.delete(keys[i]!);
      } catch (e) {
        if (e instanceof TsbpfError) throw new MapError(e.errno, e.message, undefined, i);
        throw e;
      }
    }
    return keys.length;
  }

  protected genericLookupBatch(count: number, cursor: Uint8Array | undefined, elemFlags: number): BatchResult<V> {
    this.checkElemFlags(elemFlags);
    const keys: Uint8Array[] = [];
    const values: V[] = [];
    if (count <= 0) return { keys, values, cursor, done: false };
    let prev = cursor;
    let done = false;
    while (keys.length < count) {
      const k = this.nextKey(prev);
      if (k === undefined) {
        done = true;
        break;
      }
      const v = this.get(k);
      prev = k;
      if (v === undefined) continue;
      keys.push(k);
      values.push(v);
    }
    return { keys, values, cursor: keys.length > 0 ? keys[keys.length - 1] : cursor, done };
  }

  /**
   * BPF_MAP_FREEZE: the host can no longer write (programs still can, as in
   * the kernel). A second freeze is EBUSY; a map the host cannot write is EPERM.
   */
  freeze(): void {
    this.checkOpen();
    if (this.fileMode === 'r' || this.frozen) {
      // kernel order: the FMODE_CAN_WRITE check (frozen masks it) comes before the EBUSY check
      throw this.err('EPERM', 'map is not writable from the host');
    }
    this.frozen = true;
    this.space.writeU8(this.addr + BPF_MAP_FIELDS.frozen, 1);
  }

  /**
   * Where `pin()` writes: installed by the Node entry (src/index.ts, from
   * maps/pin.ts), since the core has no file system (it also runs in browsers).
   */
  static pinWriter: ((map: BpfMap<unknown>, path: string) => void) | undefined;

  /**
   * Pin the map to `path` (BPF_OBJ_PIN): every entry is written atomically, and
   * `openPinnedMap` (or `tsbpf map dump pinned PATH`) reopens it in a later process.
   */
  pin(path: string): void {
    this.checkOpen();
    if (!BpfMap.pinWriter) throw this.err('EOPNOTSUPP', 'pinning needs a file system: import it from the Node entry (tsbpf), not tsbpf/core');
    BpfMap.pinWriter(this as BpfMap<unknown>, path);
  }

  /** Release the map's storage and its id. Closing twice is harmless. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A map still referenced from a map-in-map slot stays reachable (by id and address) until released.
    if (this.refs === 0) this.release();
  }

  /** map-in-map slots hold a reference so the inner map outlives its handle. */
  retain(): void {
    this.refs++;
  }
  unretain(): void {
    if (this.refs > 0) this.refs--;
    if (this.refs === 0 && this.closed) this.release();
  }

  private released = false;
  /** True once the storage is gone (closed and no map-in-map slot refers to it). */
  get isReleased(): boolean {
    return this.released;
  }
  /**
   * The last reference is gone: the id at once, the memory after the grace
   * period (the kernel's bpf_map_put: bpf_map_free_id, then the map is freed
   * after RCU), since a run in flight may still hold a pointer into the map's
   * storage (an inner map a program looked up, a value, a ring record).
   */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.table.unpublish(this as BpfMap<unknown>);
    this.space.afterGracePeriod(() => {
      this.table.remove(this as BpfMap<unknown>);
      this.freeStorage();
      this.space.free(this.addr);
      if (this.descRegion) this.space.removeRegion(this.descRegion);
    });
  }

  /** Free the map's blocks in the address space. */
  protected abstract freeStorage(): void;

  private restoring = false;
  /**
   * Run `fn` with the host access checks (BPF_F_RDONLY/WRONLY, frozen) lifted:
   * for restoring a pinned map's contents, which is not a bpf(2) write.
   */
  withHostAccess<T>(fn: () => T): T {
    const was = this.restoring;
    this.restoring = true;
    try {
      return fn();
    } finally {
      this.restoring = was;
    }
  }

  // ---- helpers for subclasses

  protected err(e: Errno, msg: string): MapError {
    return new MapError(e, msg, this.name);
  }
  protected checkOpen(): void {
    if (this.closed) throw this.err('EBADF', 'map is closed');
  }
  /** bpf(2) refuses writes through a read-only map (BPF_F_RDONLY) or to a frozen one with EPERM. */
  protected checkHostWrite(): void {
    this.checkOpen();
    if (this.restoring) return;
    if (this.fileMode === 'r') throw this.err('EPERM', 'handle is read-only (BPF_F_RDONLY)');
    if (this.frozen) throw this.err('EPERM', 'map is frozen');
  }
  protected checkHostRead(): void {
    this.checkOpen();
    if (this.restoring) return;
    if (this.fileMode === 'w') throw this.err('EPERM', 'handle is write-only (BPF_F_WRONLY)');
  }
  /** The kernel's update-flag check shared by most types: only ANY/NOEXIST/EXIST (+F_LOCK with a spin lock). */
  protected checkUpdateFlags(flags: number): void {
    if (flags & BPF_F_LOCK) throw this.err('EINVAL', 'BPF_F_LOCK needs a bpf_spin_lock in the value (no BTF spin lock here)');
    if (flags > BPF_EXIST || flags < 0) throw this.err('EINVAL', `bad update flags ${flags}`);
  }
  private keyScratch: Uint8Array | undefined;
  protected key(k: KeyInput): Uint8Array {
    return toBytes(k, this.keySize, 'key', this.name);
  }
  /**
   * Key bytes for a lookup that does not keep them: small integer keys are
   * encoded into a reused buffer instead of a fresh allocation.
   */
  protected tmpKey(k: KeyInput): Uint8Array {
    if (typeof k === 'number' && k >= 0 && k <= 0xffffffff && Number.isInteger(k) && this.keySize >= 4 && this.keySize <= 8) {
      const b = (this.keyScratch ??= new Uint8Array(this.keySize));
      b[0] = k & 0xff;
      b[1] = (k >>> 8) & 0xff;
      b[2] = (k >>> 16) & 0xff;
      b[3] = k >>> 24;
      for (let i = 4; i < this.keySize; i++) b[i] = 0;
      return b;
    }
    return this.key(k);
  }
  protected value(v: ValueInput): Uint8Array {
    return toBytes(v, this.valueSize, 'value', this.name);
  }
  /** Per-CPU value input: one value per CPU, or a single value copied to every CPU. */
  protected perCpuValues(v: Uint8Array[] | ValueInput): Uint8Array[] {
    if (Array.isArray(v)) {
      if (v.length !== this.numCpus) throw this.err('EINVAL', `per-CPU value needs ${this.numCpus} entries, got ${v.length}`);
      return v.map((x) => this.value(x));
    }
    const one = this.value(v as ValueInput);
    return Array.from({ length: this.numCpus }, () => one);
  }
  /** Throw a MapError for a negative errno result of a program-side op. */
  protected throwErrno(rc: number, what: string): void {
    if (rc >= 0) return;
    const name = (Object.keys(ERRNO_VALUES) as Errno[]).find((k) => ERRNO_VALUES[k] === -rc) ?? 'EINVAL';
    throw this.err(name, what);
  }
}

/**
 * A cached view of an AddressSpace's bytes for hot paths: `space.u8` checks
 * the memory's buffer on every call, which costs more than a map lookup.
 * Every growth goes through the space's allocator, which bumps
 * `generation`; a detached buffer (non-shared memory grown) reads as length 0.
 */
export class MemCache {
  private u8c: Uint8Array;
  private gen: number;
  constructor(private readonly space: AddressSpace) {
    this.u8c = space.u8;
    this.gen = space.generation;
  }
  get u8(): Uint8Array {
    if (this.gen !== this.space.generation || this.u8c.byteLength === 0) {
      this.u8c = this.space.u8;
      this.gen = this.space.generation;
    }
    return this.u8c;
  }
}

/** Compare `len` bytes of a and b at the given offsets. */
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
