/**
 * The host consumer of a RingBuf (libbpf's ring_buffer__consume /
 * ring_buffer__poll, cilium/ebpf's ringbuf.Reader), without Node-only APIs.
 *
 * It walks records from consumer_pos: a busy record (reserved, not yet
 * committed) stops the walk, as in libbpf; discarded records are skipped and
 * counted; consumer_pos is advanced in the space after each record so
 * producers see the room immediately. Read with `for await (const rec of
 * reader)`, which waits for wakeups between records until `close()` or the
 * `signal` aborts; `read()` drains what is there now (for a host that polls),
 * and `onRecord` calls back on every wakeup instead. `lost` counts records
 * producers could not reserve (the ring was full). The kernel backend's
 * KernelRingBufReader has the same interface (runtime/api.ts RingBufReaderApi).
 */
import { DATA_OFF, type RingBuf } from './ringbuf.js';
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ } from './flags.js';
import { MapError } from './map.js';
import { Wakeup, closeOnAbort, type ReaderOptions } from './wakeup.js';

export interface RingBufReaderOptions extends ReaderOptions {
  /** callback mode: called with each record on every wakeup */
  onRecord?: (rec: Uint8Array) => void;
}

export class RingBufReader implements AsyncIterable<Uint8Array> {
  /** records read */
  records = 0;
  /** discarded records skipped */
  discarded = 0;
  private closed = false;
  private readonly wakeup = new Wakeup();
  private readonly unsubscribe: () => void;
  private readonly lostBase: number;
  private readonly forgetSignal: () => void;

  constructor(
    readonly ring: RingBuf,
    private readonly opts: RingBufReaderOptions = {},
  ) {
    if (ring.closed) throw new MapError('EBADF', 'ring buffer is closed', ring.name);
    this.lostBase = ring.stats.dropped;
    this.unsubscribe = ring.onWakeup(() => {
      if (this.opts.onRecord) this.consume(this.opts.onRecord);
      this.wakeup.wake();
    });
    this.forgetSignal = closeOnAbort(opts.signal, () => this.close());
  }

  /** Records producers dropped for lack of room since this reader was made. */
  get lost(): number {
    return this.ring.stats.dropped - this.lostBase;
  }

  /** Bytes committed or reserved and not yet consumed. */
  get available(): number {
    return this.ring.producerPos - this.ring.consumerPos;
  }

  /** Consume committed records, calling `cb` with a copy of each; returns how many. */
  consume(cb: (rec: Uint8Array) => void, max = Infinity): number {
    return this.consumeInPlace((block, off, len) => cb(block.slice(off, off + len)), max);
  }

  /**
   * Consume committed records without copying them (libbpf's
   * ring_buffer__consume hands its callback a pointer into the ring):
   * `cb(block, offset, length)` gets the sample as `block[offset ..
   * offset+length)`, valid only during the call, since the producers reuse
   * the room once consumer_pos moves past it. producer_pos is read once per
   * pass and consumer_pos written after each record (ringbuf_process_ring),
   * through the ring's cached views. Returns the records delivered.
   */
  consumeInPlace(cb: (block: Uint8Array, offset: number, length: number) => void, max = Infinity): number {
    const rb = this.ring;
    if (rb.closed) return 0;
    const shared = rb.space.shared;
    const mask = rb.mask;
    let n = 0;
    let cons = rb.consumerPos;
    let prod = rb.producerPos;
    while (n < max && !rb.closed) {
      if (cons >= prod) {
        prod = rb.producerPos;
        if (cons >= prod) break;
      }
      // Views re-read each record: a callback may grow the memory.
      const w = rb.words32();
      const off = DATA_OFF + (cons & mask);
      const hl = shared ? Atomics.load(w, off >>> 2) : w[off >>> 2]!;
      if (hl & BPF_RINGBUF_BUSY_BIT) break;
      const len = hl & ~BPF_RINGBUF_DISCARD_BIT;
      cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
      if (hl & BPF_RINGBUF_DISCARD_BIT) {
        rb.consumerPos = cons;
        this.discarded++;
        continue;
      }
      this.records++;
      n++;
      try {
        cb(rb.bytes8(), off + BPF_RINGBUF_HDR_SZ, len);
      } finally {
        // A callback may close the ring: its block is gone then.
        if (!rb.closed) rb.consumerPos = cons;
      }
    }
    return n;
  }

  /** Drain the records available now. */
  read(max = Infinity): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((r) => out.push(r), max);
    return out;
  }

  /** Resolve at the next wakeup (or at once when data is already there). */
  wait(): Promise<void> {
    if (this.closed || this.hasCommitted()) return Promise.resolve();
    return this.wakeup.wait();
  }

  private hasCommitted(): boolean {
    const rb = this.ring;
    if (rb.closed) return false;
    if (rb.consumerPos >= rb.producerPos) return false;
    return !(rb.words32()[(DATA_OFF + (rb.consumerPos & rb.mask)) >>> 2]! & BPF_RINGBUF_BUSY_BIT);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.closed && !this.ring.closed) {
      const recs = this.read(1);
      if (recs.length > 0) {
        yield recs[0]!;
        continue;
      }
      await this.wait();
    }
  }

  /** Stop: pending `for await` loops end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.forgetSignal();
    this.wakeup.wake();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
