/**
 * Consuming a kernel BPF_MAP_TYPE_RINGBUF over its mmap'ed pages, as
 * libbpf's ring_buffer__consume does (kernel/bpf/ringbuf.c's layout): the
 * consumer page (read-write, consumer_pos at 0) at offset 0, then the
 * producer page (producer_pos at 0) and the data area mapped twice in a row
 * (read-only), so a record that wraps reads as contiguous bytes. A record is
 * an 8-byte header (u32 length with BUSY and DISCARD bits, u32 page offset)
 * and its data, padded to 8. Positions are read and written with Atomics
 * (the smp_load_acquire / smp_store_release of the kernel's consumer).
 *
 * The kernel keeps no count of records a program failed to reserve (the
 * program sees bpf_ringbuf_reserve return NULL), so there is no `lost` here.
 */
import { MapError } from '../maps/map.js';
import { closeOnAbort, type ReaderOptions } from '../maps/wakeup.js';
import type { RingBufReaderApi } from '../runtime/api.js';
import { PROT_READ, PROT_WRITE } from './ffi.js';
import type { KernelMap } from './map.js';
import { nextTurn, Poller } from './poller.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;

export interface KernelRingBufOptions extends ReaderOptions {
  /** callback mode: called with each record as it arrives (from the event loop) */
  onRecord?: (rec: Uint8Array) => void;
}

export class KernelRingBufReader implements RingBufReaderApi {
  records = 0;
  discarded = 0;
  private readonly page: number;
  private readonly size: number;
  private readonly cons: unknown;
  private readonly prod: unknown;
  private readonly consPos: BigUint64Array;
  private readonly prodPos: BigUint64Array;
  private readonly data: Uint8Array;
  private readonly dataView: DataView;
  private readonly poller: Poller;
  private closed = false;
  private forgetSignal: () => void = () => {};

  constructor(
    readonly map: KernelMap,
    opts: KernelRingBufOptions = {},
  ) {
    if (map.type !== 'ringbuf') throw new MapError('EINVAL', `a ring buffer reader needs a ringbuf map, not ${map.type}`, map.name);
    const sys = map.sys;
    this.page = sys.pageSize();
    this.size = map.maxEntries;
    this.cons = sys.mmap(this.page, PROT_READ | PROT_WRITE, map.fd, 0, `ringbuf ${map.name} consumer page`);
    try {
      this.prod = sys.mmap(this.page + 2 * this.size, PROT_READ, map.fd, this.page, `ringbuf ${map.name} data`);
    } catch (e) {
      sys.munmap(this.cons, this.page);
      throw e;
    }
    this.consPos = new BigUint64Array(sys.view(this.cons, this.page), 0, 1);
    const pv = sys.view(this.prod, this.page + 2 * this.size);
    this.prodPos = new BigUint64Array(pv, 0, 1);
    this.data = new Uint8Array(pv, this.page, 2 * this.size);
    this.dataView = new DataView(pv, this.page, 2 * this.size);
    this.poller = new Poller(sys);
    this.poller.add(map.fd, 0);
    if (opts.onRecord) void this.loop(opts.onRecord);
    this.forgetSignal = closeOnAbort(opts.signal, () => this.close());
  }

  /** Consume committed records, calling `cb` with a copy of each; returns how many. */
  consume(cb: (rec: Uint8Array) => void, max = Infinity): number {
    if (this.closed) return 0;
    let cons = Atomics.load(this.consPos, 0);
    const prod = Atomics.load(this.prodPos, 0);
    const mask = BigInt(this.size - 1);
    let n = 0;
    while (cons < prod && n < max) {
      const off = Number(cons & mask);
      const hl = this.dataView.getUint32(off, true);
      if (hl & BUSY) break;
      const len = hl & ~(BUSY | DISCARD);
      const rec = hl & DISCARD ? undefined : this.data.slice(off + HDR, off + HDR + len);
      cons += BigInt(Math.ceil((len + HDR) / 8) * 8);
      Atomics.store(this.consPos, 0, cons);
      if (!rec) {
        this.discarded++;
        continue;
      }
      this.records++;
      n++;
      cb(rec);
      // the callback may have closed the reader: the pages are gone
      if (this.closed) break;
    }
    return n;
  }

  /** The records available now. */
  read(max = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((r) => out.push(r), max);
    return out;
  }

  /** Bytes produced and not yet consumed. */
  get available(): number {
    return this.closed ? 0 : Number(Atomics.load(this.prodPos, 0) - Atomics.load(this.consPos, 0));
  }

  /** Resolve when the kernel signals data (the map fd polls readable), at once if some is there. */
  async wait(): Promise<void> {
    if (this.closed || this.available > 0) return;
    await this.poller.wait();
  }

  private async loop(cb: (rec: Uint8Array) => void): Promise<void> {
    // records already waiting are delivered on the next turn of the event loop, not from the
    // constructor: the callback may use the variable the caller is assigning the reader to
    await nextTurn();
    while (!this.closed) {
      this.consume(cb);
      await this.wait();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.closed) {
      const r = this.read(1);
      if (r.length) {
        yield r[0]!;
        continue;
      }
      await this.wait();
    }
  }

  /** Stop: pending `for await` loops end, the pages are unmapped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forgetSignal();
    this.poller.close();
    this.map.sys.munmap(this.cons, this.page);
    this.map.sys.munmap(this.prod, this.page + 2 * this.size);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
