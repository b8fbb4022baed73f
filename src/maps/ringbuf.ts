/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer,
 * single-consumer byte ring shared with the host.
 *
 * Layout in the AddressSpace (one block):
 *   +0  consumer_pos (u64)   written by the host reader
 *   +8  producer_pos (u64)   written by producers
 *   +64 data area: 2 x size bytes
 * A record is an 8-byte header `{ u32 len; u32 pg_off; }` followed by the
 * sample, the whole rounded up to 8 bytes. `len` carries
 * BPF_RINGBUF_BUSY_BIT while reserved and BPF_RINGBUF_DISCARD_BIT once
 * discarded. Records start at `data + (pos & mask)`; the kernel maps the data
 * pages twice so a record that runs past the end stays contiguous — here the
 * data area is twice the ring size and a record simply continues into the
 * second half, which readers and writers both address linearly the same way.
 *
 * Reservation follows __bpf_ringbuf_reserve: it fails (NULL / -EAGAIN for
 * output) when the record would put producer_pos more than size-1 bytes
 * ahead of consumer_pos or of the oldest still-busy record. Commit wakes the
 * reader when BPF_RB_FORCE_WAKEUP is given, or when the reader has caught up
 * to this record and BPF_RB_NO_WAKEUP is not given (the kernel's adaptive
 * notification); wakeups are delivered as a microtask, like irq_work.
 *
 * The rest of the ring's state lives in the control block too
 * (memory/ringbuf-layout.ts: pending_pos, the counters, and for a shared
 * space the lock and the wakeup word), so that the JIT's WebAssembly
 * producer (helpers/ringbuf-wasm.ts) and, in a shared address space, every
 * thread's RingBuf over it are one ring. The descriptor carries the control
 * block's address at DESC_RINGBUF_CTRL. In a shared space record headers are
 * written with Atomics.store, so a reader that sees a record committed also
 * sees the sample written before the commit.
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { BpfMap, errno, type KeyInput, type MapContext } from './map.js';
import { MapLock } from './lock.js';
import { DATA_OFF, DESC_RINGBUF_CTRL, RB, RINGBUF_STAT_NAMES } from '../memory/ringbuf-layout.js';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from './flags.js';

/** kernel: RINGBUF_MAX_RECORD_SZ */
const RINGBUF_MAX_RECORD_SZ = 0xffffffff / 4;
export { DATA_OFF };
const W_LOCK = RB.LOCK;
const W_WAKE = RB.WAKE;
const W_PENDING = RB.PENDING;
const W_STATS = RB.STATS;
const STAT_NAMES = RINGBUF_STAT_NAMES;
type StatName = (typeof STAT_NAMES)[number];

export interface RingBufStats {
  /** records committed */
  submitted: number;
  /** records discarded by the producer */
  discarded: number;
  /** reservations that failed for lack of space (the records are lost) */
  dropped: number;
  /** wakeups sent to the reader */
  wakeups: number;
  /** commits with BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP */
  noWakeup: number;
  forceWakeup: number;
}

export class RingBuf extends BpfMap<never> {
  /** control block: consumer_pos at +0, producer_pos at +8 */
  readonly ctrlAddr: number;
  readonly dataAddr: number;
  /** ring size in bytes (max_entries) */
  readonly ringSize: number;
  readonly mask: number;
  /** the counters, read from the control block (the WebAssembly producer counts there too) */
  readonly stats: RingBufStats;
  private readonly listeners = new Set<() => void>();
  private wakeScheduled = false;
  private region: Region | undefined;
  /** shared rings: the control block's words, the reservation lock */
  private readonly words: Int32Array | undefined;
  private readonly lock: MapLock | undefined;
  private readonly attached: boolean;
  /** shared rings: a wait for other threads' wakeups is pending */
  private watching = false;
  /**
   * Cached views of the ring's block (control block and data area), from
   * ctrlAddr: `AddressSpace.view`/`u8` ask the memory for its buffer on every
   * call, which cost about 40% of a record's time. A non-shared memory
   * detaches its buffer when it grows, which empties these views (length 0):
   * that is the only time they are rebuilt (`views()`). A shared memory's
   * buffer never detaches, so its views stay valid for good.
   */
  private w32: Int32Array;
  private b8: Uint8Array;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.ringSize = this.maxEntries;
    this.mask = this.ringSize - 1;
    this.attached = ctx.attach !== undefined;
    try {
      this.ctrlAddr = ctx.attach ? ctx.attach.state : this.space.alloc(DATA_OFF + 2 * this.ringSize, 64);
    } catch (e) {
      this.close();
      throw e;
    }
    this.dataAddr = this.ctrlAddr + DATA_OFF;
    this.region = this.space.addRegion({ base: this.dataAddr, size: 2 * this.ringSize, kind: 'ringbuf', name: `ringbuf ${this.name}`, writable: true });
    const buf = this.space.memory.buffer;
    this.w32 = new Int32Array(buf, this.ctrlAddr, (DATA_OFF + 2 * this.ringSize) >>> 2);
    this.b8 = new Uint8Array(buf, this.ctrlAddr, DATA_OFF + 2 * this.ringSize);
    if (this.space.shared) {
      this.words = this.w32;
      this.lock = new MapLock(this.w32, W_LOCK, `ringbuf ${this.name} lock`);
    }
    const stats = {} as RingBufStats;
    STAT_NAMES.forEach((k, i) => Object.defineProperty(stats, k, { enumerable: true, get: () => Atomics.load(this.words32(), W_STATS + i) >>> 0 }));
    this.stats = stats;
    // Not for an attached ring: the thread that made it wrote its descriptor.
    if (!this.attached) this.space.writeU32(this.addr + DESC_RINGBUF_CTRL, this.ctrlAddr);
  }

  /**
   * The ring's block as 32-bit words from ctrlAddr (little-endian, as the
   * space is): word 0/1 consumer_pos, 2/3 producer_pos, and a record header
   * at `(DATA_OFF + (pos & mask)) >>> 2`. Valid until the memory grows.
   */
  words32(): Int32Array {
    if (this.w32.length === 0) this.rebuildViews();
    return this.w32;
  }
  /** The ring's block as bytes from ctrlAddr (a record's sample at `DATA_OFF + (pos & mask) + 8`). */
  bytes8(): Uint8Array {
    if (this.b8.length === 0) this.rebuildViews();
    return this.b8;
  }
  private rebuildViews(): void {
    const buf = this.space.memory.buffer;
    this.w32 = new Int32Array(buf, this.ctrlAddr, (DATA_OFF + 2 * this.ringSize) >>> 2);
    this.b8 = new Uint8Array(buf, this.ctrlAddr, DATA_OFF + 2 * this.ringSize);
  }

  private count(k: StatName): void {
    const i = W_STATS + STAT_NAMES.indexOf(k);
    if (this.words) Atomics.add(this.words, i, 1);
    else this.words32()[i]++;
  }

  // The oldest record not yet known to be committed (kernel: rb->pending_pos).
  private get pendingPos(): number {
    const w = this.words32();
    return (w[W_PENDING]! >>> 0) + (w[W_PENDING + 1]! >>> 0) * 0x100000000;
  }
  private set pendingPos(v: number) {
    const w = this.words32();
    w[W_PENDING] = v | 0;
    w[W_PENDING + 1] = Math.floor(v / 0x100000000) | 0;
  }

  // Positions are u64 in the space; JS numbers hold them exactly up to 2^53 bytes written.
  get consumerPos(): number {
    const w = this.words32();
    if (this.words) return (Atomics.load(w, 0) >>> 0) + (Atomics.load(w, 1) >>> 0) * 0x100000000;
    return (w[0]! >>> 0) + (w[1]! >>> 0) * 0x100000000;
  }
  set consumerPos(v: number) {
    const w = this.words32();
    if (this.words) {
      Atomics.store(w, 1, Math.floor(v / 0x100000000) | 0);
      Atomics.store(w, 0, v | 0);
      return;
    }
    w[0] = v | 0;
    w[1] = Math.floor(v / 0x100000000) | 0;
  }
  get producerPos(): number {
    const w = this.words32();
    if (this.words) return (Atomics.load(w, 2) >>> 0) + (Atomics.load(w, 3) >>> 0) * 0x100000000;
    return (w[2]! >>> 0) + (w[3]! >>> 0) * 0x100000000;
  }
  private set producerPos(v: number) {
    const w = this.words32();
    if (this.words) {
      Atomics.store(w, 3, Math.floor(v / 0x100000000) | 0);
      Atomics.store(w, 2, v | 0);
      return;
    }
    w[2] = v | 0;
    w[3] = Math.floor(v / 0x100000000) | 0;
  }

  /** Does `addr` point into this ring's data (for bpf_ringbuf_submit/discard, which get only the sample)? */
  containsSample(addr: number): boolean {
    return addr >= this.dataAddr + BPF_RINGBUF_HDR_SZ && addr < this.dataAddr + 2 * this.ringSize;
  }

  /** __bpf_ringbuf_reserve: the sample address, or 0. */
  private reserveRaw(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ || size < 0) return 0;
    const len = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    if (len > this.ringSize) return 0;
    const cons = this.consumerPos;
    let pend = this.pendingPos;
    const prod = this.producerPos;
    const w = this.words32();
    const shared = this.words !== undefined;
    // At most ring size / 8 + 1 steps (each moves >= 8 bytes): a block the host corrupted, with the
    // positions far apart, cannot hold the producer here (helpers/ringbuf-wasm.ts has the same bound).
    let steps = (this.mask >>> 3) + 2;
    while (prod - pend > 0 && --steps > 0) {
      const i = (DATA_OFF + (pend & this.mask)) >>> 2;
      const hl = shared ? Atomics.load(w, i) : w[i]!;
      if (hl & BPF_RINGBUF_BUSY_BIT) break;
      pend += ((hl & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    }
    this.pendingPos = pend;
    const newProd = prod + len;
    if (newProd - cons > this.mask || newProd - pend > this.mask) return 0;
    const off = DATA_OFF + (prod & this.mask);
    const i = off >>> 2;
    if (shared) Atomics.store(w, i, size | BPF_RINGBUF_BUSY_BIT);
    else w[i] = size | BPF_RINGBUF_BUSY_BIT;
    // pg_off: the kernel stores the header's page offset from the ring struct to find the ring on commit.
    w[i + 1] = Math.floor(off / 4096);
    this.producerPos = newProd;
    return this.ctrlAddr + off + BPF_RINGBUF_HDR_SZ;
  }

  /** bpf_ringbuf_reserve(map, size, flags): sample address or 0 (flags must be 0). */
  reserve(size: number, flags = 0): number {
    if (flags !== 0) return 0;
    let a: number;
    if (this.lock) {
      this.lock.acquire();
      try {
        a = this.reserveRaw(size);
      } finally {
        this.lock.release();
      }
    } else a = this.reserveRaw(size);
    if (a === 0) this.count('dropped');
    return a;
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard (bpf_ringbuf_commit). */
  commit(sampleAddr: number, flags: number, discard: boolean): void {
    const off = sampleAddr - BPF_RINGBUF_HDR_SZ - this.ctrlAddr;
    const i = off >>> 2;
    const w = this.words32();
    const shared = this.words !== undefined;
    let len = (shared ? Atomics.load(w, i) : w[i]!) ^ BPF_RINGBUF_BUSY_BIT;
    if (discard) len |= BPF_RINGBUF_DISCARD_BIT;
    // Shared: the store that commits is atomic, so the sample written before it is visible with it.
    if (shared) {
      Atomics.store(w, i, len);
      this.count(discard ? 'discarded' : 'submitted');
      if (flags & BPF_RB_NO_WAKEUP) this.count('noWakeup');
      if (flags & BPF_RB_FORCE_WAKEUP) this.count('forceWakeup');
    } else {
      w[i] = len;
      w[W_STATS + (discard ? 1 : 0)]++;
      if (flags & BPF_RB_NO_WAKEUP) w[W_STATS + 4]++;
      if (flags & BPF_RB_FORCE_WAKEUP) w[W_STATS + 5]++;
    }
    if (flags & BPF_RB_FORCE_WAKEUP) this.wake();
    else if (!(flags & BPF_RB_NO_WAKEUP) && ((shared ? Atomics.load(w, 0) : w[0]!) & this.mask) === ((off - DATA_OFF) & this.mask)) this.wake();
  }
  submit(sampleAddr: number, flags = 0): void {
    this.commit(sampleAddr, flags, false);
  }
  discard(sampleAddr: number, flags = 0): void {
    this.commit(sampleAddr, flags, true);
  }

  /** bpf_ringbuf_output(map, data, size, flags): 0, -EINVAL (flags), -EAGAIN (no room). */
  output(dataAddr: number, size: number, flags = 0): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return errno('EINVAL');
    const rec = this.reserve(size);
    if (rec === 0) return errno('EAGAIN');
    const u8 = this.mem.u8;
    if (size <= 16) for (let k = 0; k < size; k++) u8[rec + k] = u8[dataAddr + k]!;
    else u8.copyWithin(rec, dataAddr, dataAddr + size);
    this.commit(rec, flags, false);
    return 0;
  }

  /** A host-side producer (events emitted by the host application, tests): like bpf_ringbuf_output. */
  write(data: Uint8Array, flags = 0): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return errno('EINVAL');
    const rec = this.reserve(data.length);
    if (rec === 0) return errno('EAGAIN');
    this.bytes8().set(data, rec - this.ctrlAddr);
    this.commit(rec, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query */
  query(flags: number): bigint {
    switch (flags) {
      case BPF_RB_AVAIL_DATA:
        return BigInt(this.producerPos - this.consumerPos);
      case BPF_RB_RING_SIZE:
        return BigInt(this.ringSize);
      case BPF_RB_CONS_POS:
        return BigInt(this.consumerPos);
      case BPF_RB_PROD_POS:
        return BigInt(this.producerPos);
      default:
        return 0n;
    }
  }

  /**
   * Subscribe to wakeups (the reader's epoll); returns an unsubscribe
   * function. On a shared ring, wakeups by producers on other threads arrive
   * too (as a task, through Atomics.waitAsync on the wakeup word).
   */
  onWakeup(cb: () => void): () => void {
    this.listeners.add(cb);
    if (this.words) this.watch();
    return () => this.listeners.delete(cb);
  }

  /** Shared rings: wait for the wakeup word to change while anyone listens. */
  private watch(): void {
    const w = this.words!;
    if (this.watching) return;
    const waitAsync = (Atomics as { waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    if (!waitAsync) return;
    this.watching = true;
    let seen = Atomics.load(w, W_WAKE);
    const loop = (): void => {
      if (this.listeners.size === 0 || this.closed) {
        this.watching = false;
        return;
      }
      const now = Atomics.load(w, W_WAKE);
      if (now !== seen) {
        seen = now;
        for (const cb of [...this.listeners]) cb();
      }
      // A pending waitAsync does not keep Node's event loop alive, so it may wait for ever.
      const r = waitAsync(w, W_WAKE, seen);
      if (r.async) (r.value as Promise<string>).then(loop, loop);
      else queueMicrotask(loop);
    };
    loop();
  }

  private wake(): void {
    this.count('wakeups');
    if (this.words) {
      Atomics.add(this.words, W_WAKE, 1);
      Atomics.notify(this.words, W_WAKE);
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    queueMicrotask(() => {
      this.wakeScheduled = false;
      for (const cb of [...this.listeners]) cb();
    });
  }

  // ---- bpf(2) element commands do not apply to ring buffers (kernel: ENOTSUPP).
  override get(_key: KeyInput): never {
    throw this.err('ENOTSUPP', 'ring buffers have no elements to look up');
  }
  override set(): never {
    throw this.err('ENOTSUPP', 'ring buffers have no elements to update');
  }
  override delete(): never {
    throw this.err('ENOTSUPP', 'ring buffers have no elements to delete');
  }
  override nextKey(): never {
    throw this.err('ENOTSUPP', 'ring buffers have no keys');
  }

  protected override freeStorage(): void {
    this.listeners.clear();
    // The thread that made a shared ring frees it, not one that attached.
    if (this.ctrlAddr && !this.attached) {
      this.space.writeU32(this.addr + DESC_RINGBUF_CTRL, 0);
      this.space.free(this.ctrlAddr);
    }
    if (this.region) this.space.removeRegion(this.region);
  }
}
