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
import type { RingBuf } from './ringbuf.js';
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
    const rb = this.ring;
    if (rb.closed) return 0;
    const s = rb.space;
    let cons = rb.consumerPos;
    const prod = rb.producerPos;
    let n = 0;
    while (cons < prod && n < max) {
      const hdr = rb.dataAddr + (cons & rb.mask);
      const hl = s.readU32(hdr);
      if (hl & BPF_RINGBUF_BUSY_BIT) break;
      const len = (hl & ~BPF_RINGBUF_DISCARD_BIT) >>> 0;
      const data = hl & BPF_RINGBUF_DISCARD_BIT ? undefined : s.bytes(hdr + BPF_RINGBUF_HDR_SZ, len).slice();
      cons += Math.ceil((len + BPF_RINGBUF_HDR_SZ) / 8) * 8;
      rb.consumerPos = cons;
      if (data === undefined) {
        this.discarded++;
        continue;
      }
      this.records++;
      n++;
      cb(data);
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
    return !(rb.space.readU32(rb.dataAddr + (rb.consumerPos & rb.mask)) & BPF_RINGBUF_BUSY_BIT);
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
