/**
 * BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c), on
 * the bucketed HashTable. The LRU kinds (lru-hash.ts) reuse this with
 * eviction turned on.
 *
 * Kernel rules kept: update flags ANY/NOEXIST/EXIST (EEXIST, ENOENT), E2BIG
 * when a new key does not fit, ENOENT on delete of a missing key,
 * get-next-key returns the first key when the given key is missing, the
 * batch commands walk bucket by bucket with a bucket-index cursor and fail
 * with ENOSPC when the first bucket does not fit in `count`.
 *
 * Differences: an update of an existing key rewrites its value in place (the
 * kernel swaps in a fresh element for non-per-CPU hashes, so a pointer a
 * program got from an earlier lookup keeps the old value there; here it sees
 * the new one). The hash function is tsbpf's, so the walk order differs from
 * a given kernel's (which is random per map unless BPF_F_ZERO_SEED anyway).
 *
 * In a shared address space (programs on worker threads) the table lives in
 * the shared memory with a per-map lock (hash-table.ts): every change — and
 * the value copy that goes with it — happens under the lock, program lookups
 * take none (a sequence count tells them to retry; an LRU lookup only sets
 * the element's reference bit, a racy store as in the kernel), and host reads
 * hold it so a copied value belongs to the key asked for. BPF_F_NO_PREALLOC
 * maps are preallocated there (a worker cannot allocate; the kernel's
 * semantics are the same apart from memory use).
 */
import { copyMapValue, hasSpinLock, zeroSpecialFields, type SpecialFields } from './special-fields.js';
import type { MapSpec } from '../object/spec.js';
import { BpfMap, errno, type BatchResult, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { HashTable } from './hash-table.js';
import type { MapLock } from './lock.js';
import { DESC_TABLE_STATE } from './descriptor.js';
import { PROBE_LOOKUP, PROBE_LRU, PROBE_PERCPU, PROBE_UPDATE } from '../memory/hash-layout.js';
import { BPF_F_LOCK, BPF_EXIST, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, BPF_F_ZERO_SEED, roundUp } from './flags.js';

export abstract class HashBase<V> extends BpfMap<V> {
  readonly table_: HashTable;
  readonly elemSize: number;
  readonly slots: number;
  /**
   * Bytes from one CPU's value to the next in a per-CPU element: elemSize,
   * or in a shared space a multiple of 64 so that threads updating their own
   * slots do not contend for a cache line.
   */
  readonly cpuStride: number;
  /** the map's lock when the table is shared between threads, else undefined */
  protected readonly lock: MapLock | undefined;

  constructor(spec: MapSpec, ctx: MapContext, perCpu: boolean, lru: boolean, maxEntries = spec.maxEntries) {
    super(spec, ctx, maxEntries);
    this.elemSize = roundUp(this.valueSize, 8);
    this.slots = perCpu ? this.numCpus : 1;
    this.cpuStride = perCpu && this.space.shared ? Math.ceil(this.elemSize / 64) * 64 : this.elemSize;
    try {
      this.table_ = new HashTable(this.space, {
        keySize: this.keySize,
        valueArea: this.cpuStride * this.slots,
        maxEntries: this.maxEntries,
        prealloc: lru || !(this.flags & BPF_F_NO_PREALLOC),
        lru,
        progWritable: !(this.flags & BPF_F_RDONLY_PROG),
        seed: this.flags & BPF_F_ZERO_SEED ? 0 : (Math.random() * 0x100000000) >>> 0,
        name: this.name,
        valueSize: this.valueSize,
        ...(ctx.attach ? { attachAt: ctx.attach.state } : {}),
      });
    } catch (e) {
      this.close();
      throw e;
    }
    this.lock = this.table_.lock;
    this.space.writeU32(this.addr + DESC_TABLE_STATE, this.table_.stateAddr);
  }

  /** Shared tables: the address of the table's state block (what a worker attaches to). */
  get stateAddr(): number {
    return this.table_.stateAddr;
  }

  /** Number of elements (not a bpf(2) command; handy for the host and tests). */
  get size(): number {
    return this.table_.count;
  }

  protected valueAddrOf(i: number, cpu: number): number {
    // A CPU number past the map's wraps instead of reaching into the next element.
    return this.table_.valueAddr(i) + (this.slots === 1 ? 0 : ((cpu >>> 0) % this.slots) * this.cpuStride);
  }

  // ---- program side

  override lookupElem(keyAddr: number, cpu = 0): number {
    if (this.slots > 1) this.table_.disarmCpu();
    if (this.lock !== undefined) return this.lookupShared(keyAddr, cpu);
    const i = this.table_.find(null, keyAddr);
    if (i < 0) return 0;
    this.table_.mark(i);
    return this.valueAddrOf(i, cpu);
  }

  private lookupShared(keyAddr: number, cpu: number): number {
    const t = this.table_;
    const i = t.findShared(null, keyAddr);
    if (i < 0) return 0;
    // An element evicted and reused meanwhile gets the bit instead: a benign race (htab_lru_map_lookup_elem has it too).
    t.mark(i);
    return this.valueAddrOf(i, cpu);
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu = 0): number {
    if (this.slots > 1) this.table_.disarmCpu();
    if (this.progWriteDenied()) return errno('EPERM');
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST || flags < 0) return errno('EINVAL');
    if (flags & BPF_F_LOCK && !hasSpinLock(this.specialFields)) return errno('EINVAL');
    if (this.lock !== undefined) {
      this.table_.beginWrite();
      try {
        return this.updateUnlocked(keyAddr, valueAddr, flags, cpu);
      } finally {
        this.table_.endWrite();
      }
    }
    return this.updateUnlocked(keyAddr, valueAddr, flags, cpu);
  }

  private updateUnlocked(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const i = this.table_.insert(null, keyAddr, flags & ~BPF_F_LOCK);
    if (i < 0) return i;
    // A new per-CPU element starts zeroed on the other CPUs (kernel: pcpu_init_value).
    const dst = this.valueAddrOf(i, cpu);
    if (this.specialFields.length) copyMapValue(this.mem.u8, dst, valueAddr, this.valueSize, this.specialFields);
    else this.mem.u8.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  override deleteElem(keyAddr: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    if (this.lock === undefined) return this.table_.remove(null, keyAddr);
    this.table_.beginWrite();
    try {
      return this.table_.remove(null, keyAddr);
    } finally {
      this.table_.endWrite();
    }
  }

  /**
   * Run a host operation under the map's lock when the table is shared (a
   * change: lock-free readers retry after it). Host operations are not the
   * hot path; programs' are, and they do not come through here.
   */
  protected locked<T>(fn: () => T): T {
    if (this.lock === undefined) return fn();
    this.table_.beginWrite();
    try {
      return fn();
    } finally {
      this.table_.endWrite();
    }
  }

  /** The same for a host operation that changes nothing: the lock alone (lock-free readers need not retry). */
  protected lockedRead<T>(fn: () => T): T {
    if (this.lock === undefined) return fn();
    this.lock.acquire();
    try {
      return fn();
    } finally {
      this.lock.release();
    }
  }

  // ---- host side

  protected findHost(key: KeyInput): number {
    this.checkHostRead();
    return this.table_.find(this.tmpKey(key), 0);
  }

  override getView(key: KeyInput, cpu = 0): Uint8Array | undefined {
    const i = this.lock === undefined ? this.findHost(key) : this.lockedRead(() => this.findHost(key));
    if (i < 0) return undefined;
    return this.space.bytes(this.valueAddrOf(i, cpu), this.valueSize);
  }

  override has(key: KeyInput): boolean {
    if (this.lock !== undefined) return this.lockedRead(() => this.findHost(key) >= 0);
    return this.findHost(key) >= 0;
  }

  /** Insert from the host: returns the element number (value area still to write). */
  protected insertHost(key: KeyInput, flags: number): number {
    this.checkHostWrite();
    this.checkUpdateFlags(flags);
    const k = this.tmpKey(key);
    const i = this.table_.insert(k, 0, flags);
    if (i < 0) {
      const what = i === errno('EEXIST') ? 'key exists (BPF_NOEXIST)' : i === errno('ENOENT') ? 'key does not exist (BPF_EXIST)' : i === errno('E2BIG') ? `map is full (max_entries ${this.maxEntries})` : 'update failed';
      this.throwErrno(i, what);
    }
    return i;
  }

  override delete(key: KeyInput): void {
    this.checkHostWrite();
    let rc: number;
    if (this.lock !== undefined) {
      this.table_.beginWrite();
      try {
        rc = this.table_.remove(this.tmpKey(key), 0);
      } finally {
        this.table_.endWrite();
      }
    } else rc = this.table_.remove(this.tmpKey(key), 0);
    if (rc < 0) throw this.err('ENOENT', 'no such key');
  }

  override nextKey(key?: KeyInput): Uint8Array | undefined {
    if (this.lock !== undefined) return this.lockedRead(() => this.nextKeyUnlocked(key));
    return this.nextKeyUnlocked(key);
  }

  private nextKeyUnlocked(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const t = this.table_;
    let n: number;
    if (key === undefined) n = t.firstFrom(0);
    else {
      const i = t.find(this.key(key), 0);
      n = i < 0 ? t.firstFrom(0) : t.after(i);
    }
    if (n < 0) return undefined;
    return this.space.bytes(t.keyAddr(n), this.keySize).slice();
  }

  override *keys(): IterableIterator<Uint8Array> {
    this.checkHostRead();
    const t = this.table_;
    if (this.lock !== undefined) {
      yield* this.keysShared();
      return;
    }
    for (let i = t.firstFrom(0); i >= 0; ) {
      const k = this.space.bytes(t.keyAddr(i), this.keySize).slice();
      const n = t.after(i);
      yield k;
      i = n;
    }
  }

  /**
   * Shared tables: bucket by bucket, each bucket's keys copied under the lock
   * (as the kernel's batch commands walk). A key other threads leave in the
   * map stays in its bucket, so it is returned exactly once however the
   * others insert and delete meanwhile.
   */
  private *keysShared(): IterableIterator<Uint8Array> {
    const t = this.table_;
    for (let b = 0; b < t.nBuckets; ) {
      const found = this.lockedRead((): [Uint8Array[], number] => {
        const first = t.firstFrom(b);
        if (first < 0) return [[], t.nBuckets];
        const bucket = t.bucketOf(first);
        const keys: Uint8Array[] = [];
        for (let i = first; i >= 0 && t.bucketOf(i) === bucket; i = t.next[i]!) keys.push(this.space.bytes(t.keyAddr(i), this.keySize).slice());
        return [keys, bucket + 1];
      });
      yield* found[0];
      b = found[1];
    }
  }

  protected abstract readValue(i: number): V;

  override get(key: KeyInput): V | undefined {
    if (this.lock !== undefined) {
      // Under the lock (no change, so lock-free readers need not retry): the copy is of this key's value.
      this.lock.acquire();
      try {
        const i = this.findHost(key);
        return i < 0 ? undefined : this.readValue(i);
      } finally {
        this.lock.release();
      }
    }
    const i = this.findHost(key);
    return i < 0 ? undefined : this.readValue(i);
  }

  override lookupAndDelete(key: KeyInput): V | undefined {
    this.checkHostWrite();
    if (this.lock !== undefined) return this.locked(() => this.lookupAndDeleteUnlocked(key));
    return this.lookupAndDeleteUnlocked(key);
  }

  private lookupAndDeleteUnlocked(key: KeyInput): V | undefined {
    const i = this.findHost(key);
    if (i < 0) return undefined;
    const v = this.readValue(i);
    this.onRemove(i);
    this.table_.removeIndex(i);
    return v;
  }

  override lookupBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<V> {
    this.checkBatch('lookup', elemFlags);
    return this.lockedRead(() => this.bucketBatch(count, cursor, false));
  }
  override lookupAndDeleteBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<V> {
    this.checkBatch('lookup_and_delete', elemFlags);
    return this.locked(() => this.bucketBatch(count, cursor, true));
  }

  /** An element is about to be removed by the host (map-in-map releases its inner map). */
  protected onRemove(_i: number): void {}

  /**
   * __htab_map_lookup_and_delete_batch: the cursor is a u32 bucket index;
   * whole buckets are copied; a bucket larger than the room left ends the
   * batch (ENOSPC when nothing was copied yet); `done` (ENOENT) once the last
   * bucket has been passed.
   */
  private bucketBatch(count: number, cursor: Uint8Array | undefined, del: boolean): BatchResult<V> {
    const keys: Uint8Array[] = [];
    const values: V[] = [];
    const t = this.table_;
    let batch = 0;
    if (cursor !== undefined) {
      if (cursor.length !== 4) throw this.err('EINVAL', 'hash batch cursor is a 4-byte bucket index');
      batch = new DataView(cursor.buffer, cursor.byteOffset, 4).getUint32(0, true);
    }
    if (count <= 0) return { keys, values, cursor, done: false };
    const enc = (b: number): Uint8Array => {
      const c = new Uint8Array(4);
      new DataView(c.buffer).setUint32(0, b >>> 0, true);
      return c;
    };
    if (batch >= t.nBuckets) throw this.err('ENOENT', 'batch cursor is past the last bucket');
    let done = false;
    for (;;) {
      let cnt = 0;
      for (let i = t.bucketHead(batch); i >= 0; i = t.next[i]!) cnt++;
      if (cnt > count - keys.length) {
        if (keys.length === 0) throw this.err('ENOSPC', `bucket ${batch} holds ${cnt} elements, more than count ${count}`);
        break;
      }
      const members: number[] = [];
      for (let i = t.bucketHead(batch); i >= 0; i = t.next[i]!) members.push(i);
      for (const i of members) {
        keys.push(this.space.bytes(t.keyAddr(i), this.keySize).slice());
        values.push(this.readValue(i));
        if (del) {
          this.onRemove(i);
          t.removeIndex(i);
        }
      }
      batch++;
      if (batch >= t.nBuckets) {
        done = true;
        break;
      }
    }
    return { keys, values, cursor: enc(batch), done };
  }

  protected override freeStorage(): void {
    this.table_?.destroy();
  }
}

export class HashMap extends HashBase<Uint8Array> {
  constructor(spec: MapSpec, ctx: MapContext, private readonly lru = false) {
    super(spec, ctx, false, lru);
    // What the JIT's WebAssembly probe does without JS (helpers/hash-probe.ts): lookups (an LRU
    // lookup only sets the reference bit, lock-free even in a shared table), and changes where no
    // lock or write check is needed.
    const update = this.lock === undefined && !this.progWriteDenied() ? PROBE_UPDATE : 0;
    this.table_.setProbe(PROBE_LOOKUP | (lru ? PROBE_LRU : 0) | update);
  }
  /** A value with a lock or timer is copied around them (copyMapValue), which the WebAssembly probe's update does not do. */
  override setSpecialFields(fields: SpecialFields): void {
    super.setSpecialFields(fields);
    if (fields.length) this.table_.setProbe(PROBE_LOOKUP | (this.lru ? PROBE_LRU : 0));
  }
  protected readValue(i: number): Uint8Array {
    const a = this.valueAddrOf(i, 0);
    const out = this.mem.u8.slice(a, a + this.valueSize);
    if (this.specialFields.length) zeroSpecialFields(out, 0, this.specialFields);
    return out;
  }
  override set(key: KeyInput, value: ValueInput, flags = 0): void {
    const v = this.value(value);
    if (this.lock !== undefined) {
      this.table_.beginWrite();
      try {
        copyMapValue(this.mem.u8, this.valueAddrOf(this.insertHost(key, flags), 0), v, this.valueSize, this.specialFields);
      } finally {
        this.table_.endWrite();
      }
      return;
    }
    const i = this.insertHost(key, flags);
    copyMapValue(this.mem.u8, this.valueAddrOf(i, 0), v, this.valueSize, this.specialFields);
  }
}

export class PerCpuHashMap extends HashBase<Uint8Array[]> {
  constructor(spec: MapSpec, ctx: MapContext, lru = false, maxEntries = spec.maxEntries) {
    super(spec, ctx, true, lru, maxEntries);
    // The WebAssembly probe takes a program's lookups and updates when the JIT told it the CPU
    // (H.CPU, hash-layout.ts): one word per table, so only where one thread runs the programs.
    if (this.lock === undefined) {
      const update = this.progWriteDenied() ? 0 : PROBE_UPDATE;
      this.table_.setProbe(PROBE_LOOKUP | PROBE_PERCPU | (lru ? PROBE_LRU : 0) | update);
    }
  }
  override get perCpu(): boolean {
    return true;
  }
  protected readValue(i: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.numCpus; c++) out.push(this.space.bytes(this.valueAddrOf(i, c), this.valueSize).slice());
    return out;
  }
  override set(key: KeyInput, value: Uint8Array[] | ValueInput, flags = 0): void {
    const vs = this.perCpuValues(value);
    if (this.lock !== undefined) this.locked(() => this.setUnlocked(key, vs, flags));
    else this.setUnlocked(key, vs, flags);
  }
  private setUnlocked(key: KeyInput, vs: Uint8Array[], flags: number): void {
    const i = this.insertHost(key, flags);
    for (let c = 0; c < this.numCpus; c++) this.space.write(this.valueAddrOf(i, c), vs[c]!);
  }
}
