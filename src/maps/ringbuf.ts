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
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../vm/memory.js';
import { BpfMap, errno, type KeyInput, type MapContext } from './map.js';
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
export const RINGBUF_MAX_RECORD_SZ = 0xffffffff / 4;
const DATA_OFF = 64;

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
  private pendingPos = 0;
  readonly stats: RingBufStats = { submitted: 0, discarded: 0, dropped: 0, wakeups: 0, noWakeup: 0, forceWakeup: 0 };
  private readonly listeners = new Set<() => void>();
  private wakeScheduled = false;
  private region: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.ringSize = this.maxEntries;
    this.mask = this.ringSize - 1;
    try {
      this.ctrlAddr = this.space.alloc(DATA_OFF + 2 * this.ringSize, 64);
    } catch (e) {
      this.close();
      throw e;
    }
    this.dataAddr = this.ctrlAddr + DATA_OFF;
    this.region = this.space.addRegion({ base: this.dataAddr, size: 2 * this.ringSize, kind: 'ringbuf', name: `ringbuf ${this.name}`, writable: true });
  }

  // Positions are u64 in the space; JS numbers hold them exactly up to 2^53 bytes written.
  get consumerPos(): number {
    return this.space.readU32(this.ctrlAddr) + this.space.readU32(this.ctrlAddr + 4) * 0x100000000;
  }
  set consumerPos(v: number) {
    this.space.writeU32(this.ctrlAddr, v >>> 0);
    this.space.writeU32(this.ctrlAddr + 4, Math.floor(v / 0x100000000));
  }
  get producerPos(): number {
    return this.space.readU32(this.ctrlAddr + 8) + this.space.readU32(this.ctrlAddr + 12) * 0x100000000;
  }
  private set producerPos(v: number) {
    this.space.writeU32(this.ctrlAddr + 8, v >>> 0);
    this.space.writeU32(this.ctrlAddr + 12, Math.floor(v / 0x100000000));
  }

  /** Does `addr` point into this ring's data (for bpf_ringbuf_submit/discard, which get only the sample)? */
  containsSample(addr: number): boolean {
    return addr >= this.dataAddr + BPF_RINGBUF_HDR_SZ && addr < this.dataAddr + 2 * this.ringSize;
  }

  /** __bpf_ringbuf_reserve: the sample address, or 0. */
  private reserveRaw(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ || size < 0) return 0;
    const len = Math.ceil((size + BPF_RINGBUF_HDR_SZ) / 8) * 8;
    if (len > this.ringSize) return 0;
    const cons = this.consumerPos;
    let pend = this.pendingPos;
    const prod = this.producerPos;
    const s = this.space;
    while (prod - pend > 0) {
      const hl = s.readU32(this.dataAddr + (pend & this.mask));
      if (hl & BPF_RINGBUF_BUSY_BIT) break;
      pend += Math.ceil((((hl & ~BPF_RINGBUF_DISCARD_BIT) >>> 0) + BPF_RINGBUF_HDR_SZ) / 8) * 8;
    }
    this.pendingPos = pend;
    const newProd = prod + len;
    if (newProd - cons > this.mask || newProd - pend > this.mask) return 0;
    const hdr = this.dataAddr + (prod & this.mask);
    s.writeU32(hdr, (size | BPF_RINGBUF_BUSY_BIT) >>> 0);
    // pg_off: the kernel stores the header's page offset from the ring struct to find the ring on commit.
    s.writeU32(hdr + 4, Math.floor((hdr - this.ctrlAddr) / 4096));
    this.producerPos = newProd;
    return hdr + BPF_RINGBUF_HDR_SZ;
  }

  /** bpf_ringbuf_reserve(map, size, flags): sample address or 0 (flags must be 0). */
  reserve(size: number, flags = 0): number {
    if (flags !== 0) return 0;
    const a = this.reserveRaw(size);
    if (a === 0) this.stats.dropped++;
    return a;
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard (bpf_ringbuf_commit). */
  commit(sampleAddr: number, flags: number, discard: boolean): void {
    const hdr = sampleAddr - BPF_RINGBUF_HDR_SZ;
    const s = this.space;
    let len = (s.readU32(hdr) ^ BPF_RINGBUF_BUSY_BIT) >>> 0;
    if (discard) len = (len | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    s.writeU32(hdr, len);
    if (discard) this.stats.discarded++;
    else this.stats.submitted++;
    if (flags & BPF_RB_NO_WAKEUP) this.stats.noWakeup++;
    if (flags & BPF_RB_FORCE_WAKEUP) this.stats.forceWakeup++;
    const recPos = hdr - this.dataAddr;
    const cons = this.consumerPos & this.mask;
    if (flags & BPF_RB_FORCE_WAKEUP) this.wake();
    else if (cons === (recPos & this.mask) && !(flags & BPF_RB_NO_WAKEUP)) this.wake();
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
    this.space.u8.copyWithin(rec, dataAddr, dataAddr + size);
    this.commit(rec, flags, false);
    return 0;
  }

  /** A host-side producer (events emitted by the host application, tests): like bpf_ringbuf_output. */
  write(data: Uint8Array, flags = 0): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return errno('EINVAL');
    const rec = this.reserve(data.length);
    if (rec === 0) return errno('EAGAIN');
    this.space.write(rec, data);
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

  /** Subscribe to wakeups (the reader's epoll); returns an unsubscribe function. */
  onWakeup(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  private wake(): void {
    this.stats.wakeups++;
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
    if (this.ctrlAddr) this.space.free(this.ctrlAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}
