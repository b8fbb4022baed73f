/**
 * A map as the host holds it (kernel: struct bpf_map and the bpf(2) map
 * commands). What a map is, what programs do to it and what the host does
 * with it live apart:
 *
 * - the descriptor (descriptor.ts): type, key and value size, max_entries,
 *   flags, BTF ids, and its block in the AddressSpace, whose address is the
 *   map "pointer" a program holds after `lddw r1, map`;
 * - the program-side operations (ops.ts, the kernel's bpf_map_ops): each map
 *   class implements those its type has; the runtime and the helpers reach
 *   them through `map.ops`, which answers for the missing ones;
 * - the host API below (`get`, `set`, `delete`, `has`, `nextKey`, iteration,
 *   `freeze`, `pin`, `close`): the bpf(2) commands, with keys and values as
 *   bytes (or numbers/bigints for small ones). Conditions bpf(2) reports as
 *   an errno throw a `MapError` carrying that errno. The batch commands are
 *   in batch.ts.
 *
 * Storage lives in the AddressSpace, so a value pointer handed to a program
 * is a real address and the host can read it without a copy (`getView`).
 */
import type { SpecialFields } from './special-fields.js';
import { TsbpfError, type Errno, ERRNO_VALUES } from '../errors.js';
import type { AddressSpace, Region } from '../memory/address-space.js';
import type { MapSpec, MapTypeName } from '../object/spec.js';
import { BPF_MAP_FIELDS, DESC_SIZE, writeDescriptor, writeDescriptorValues, type MapDescriptor } from './descriptor.js';
import { opsOf, type MapOps, type MapOpsTable } from './ops.js';
import { batchElemFlagsError, genericDeleteBatch, genericLookupBatch, genericUpdateBatch, hasBatchOp, type BatchOp } from './batch.js';
import type { PinStore, PinOptions } from './pin-store.js';
import type { RingBuf } from './ringbuf.js';
import {
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
  /** cgroup_array: the cgroups an update may name, by id (the runtime's modelled kernel); absent: none, every update is EBADF */
  cgroups?: { has(id: bigint): boolean };
  /** where `map.pin(path)` pins (the runtime's PinStore); absent: pin() is EOPNOTSUPP */
  pins?: PinStore;
}

/** Where an existing map lives in a shared address space (MapContext.attach). */
export interface MapAttach {
  id: number;
  /** descriptor address (the map pointer programs hold) */
  addr: number;
  /** the type's state block (hash table block, ring control block), 0 when the descriptor says it all */
  state: number;
}

export { BPF_MAP_FIELDS, DESC_SIZE };

export interface BatchResult<V> {
  keys: Uint8Array[];
  values: V[];
  /** cursor to pass as `cursor` for the next call (bpf(2)'s out_batch) */
  cursor: Uint8Array | undefined;
  /** the kernel returned ENOENT: the walk reached the end of the map */
  done: boolean;
}



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
  /** the ring buffers, by their type tag (createMap makes a RingBuf for every `ringbuf`) */
  private readonly rings: RingBuf[] = [];
  allocId(): number {
    return ++this.lastId;
  }
  add(m: BpfMap<unknown>): void {
    this.ids.set(m.id, m);
    this.addrs.set(m.addr, m);
    if (m.type === 'ringbuf') this.rings.push(m as RingBuf);
  }
  /** The map's id is gone (bpf_map_free_id): the host can no longer find it; programs still in flight still can by address. */
  unpublish(m: BpfMap<unknown>): void {
    if (this.ids.get(m.id) === m) this.ids.delete(m.id);
  }
  /** The map's memory is gone (after the grace period): nothing finds it any more. */
  remove(m: BpfMap<unknown>): void {
    const r = this.rings.indexOf(m as RingBuf);
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
  ringbufFor(addr: number): RingBuf | undefined {
    return this.rings.find((r) => r.containsSample(addr));
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

/** A map class's own program-side operations are declared on it (ops.ts); the merge lets subclasses mark them `override`. */
export interface BpfMap<V = Uint8Array> extends MapOps {}

export abstract class BpfMap<V = Uint8Array> implements MapDescriptor {
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
  /** the value's bpf_spin_lock / bpf_timer, which updates leave zeroed (special-fields.ts); set by the loader from the value's BTF */
  specialFields: SpecialFields = [];
  /** Learn the value's special fields (the runtime, from the object's BTF, before any program uses the map). */
  setSpecialFields(fields: SpecialFields): void {
    this.specialFields = fields;
  }
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
  private readonly pins: PinStore | undefined;
  private opsTable: MapOpsTable | undefined;

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
    this.pins = ctx.pins;
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
    writeDescriptor(ctx.space, this.addr, this.id, spec, maxEntries);
    this.table.add(this as BpfMap<unknown>);
  }

  /** Per-CPU maps expose one value per CPU on the host side. */
  get perCpu(): boolean {
    return false;
  }

  /** Record the values area in the descriptor (array kinds, for the JIT). */
  protected setDescriptorValues(valuesAddr: number, elemSize: number): void {
    writeDescriptorValues(this.space, this.addr, valuesAddr, elemSize);
  }

  /**
   * The program-side operations (the kernel's map->ops): what the helpers
   * call. Operations this map type lacks answer as ops.ts's UNSUPPORTED.
   */
  get ops(): MapOpsTable {
    return (this.opsTable ??= opsOf(this));
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

  /** bpf_map_do_batch's checks, in its order: access mode (EPERM), the op's presence (ENOTSUPP), then elem_flags (EINVAL). */
  protected checkBatch(op: BatchOp, elemFlags: number): void {
    this.checkOpen();
    if (op === 'lookup' || op === 'lookup_and_delete') this.checkHostRead();
    if (op !== 'lookup') this.checkHostWrite();
    if (!hasBatchOp(this.type, op)) throw this.err('ENOTSUPP', `${this.type} maps have no ${op} batch command`);
    const bad = batchElemFlagsError(elemFlags);
    if (bad !== undefined) throw this.err('EINVAL', bad);
  }

  /**
   * BPF_MAP_LOOKUP_BATCH: at most `count` elements after `cursor` (the
   * previous batch's cursor); `done` when the walk reached the end (ENOENT).
   */
  lookupBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<V> {
    this.checkBatch('lookup', elemFlags);
    return genericLookupBatch(this, count, cursor);
  }
  /** BPF_MAP_LOOKUP_AND_DELETE_BATCH: hash kinds only (others ENOTSUPP). */
  lookupAndDeleteBatch(_count: number, _cursor?: Uint8Array, elemFlags = 0): BatchResult<V> {
    this.checkBatch('lookup_and_delete', elemFlags);
    throw this.err('ENOTSUPP', 'lookup_and_delete_batch is not supported by this map type');
  }
  /**
   * BPF_MAP_UPDATE_BATCH: every element with BPF_ANY (elem_flags take only
   * BPF_F_LOCK); stops at the first failure, which is thrown with `count` =
   * elements done.
   */
  updateBatch(keys: KeyInput[], values: Array<V | ValueInput>, elemFlags = 0): number {
    this.checkBatch('update', elemFlags);
    if (keys.length !== values.length) throw this.err('EINVAL', 'keys and values differ in length');
    return genericUpdateBatch(this, keys, values);
  }
  /** BPF_MAP_DELETE_BATCH: stops at the first failure, thrown with `count`. */
  deleteBatch(keys: KeyInput[], elemFlags = 0): number {
    this.checkBatch('delete', elemFlags);
    return genericDeleteBatch(this, keys);
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
   * Pin the map to `path` (BPF_OBJ_PIN) through the PinStore of the runtime
   * that made it (RuntimeOptions.pins; under Node, files in tsbpf's atomic
   * snapshot format): `runtime.openPinnedMap(path)` (or `tsbpf map dump
   * pinned PATH`) reopens it in a later process. `exclusive` refuses to
   * replace an existing pin (EEXIST), as BPF_OBJ_PIN on an existing path.
   */
  pin(path: string, opts: PinOptions = {}): void {
    this.checkOpen();
    if (!this.pins) throw this.err('EOPNOTSUPP', 'this map\'s runtime has no pin store (RuntimeOptions.pins; the Node entry pins to files)');
    this.pins.pin(this as BpfMap<unknown>, path, opts);
  }

  /** `using map = ...` closes the map at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
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
