/**
 * Event streams from programs to the host application:
 *   - ring buffers: `ringbufRecords(ring)` (async iterator) and
 *     `consumeRingbuf(ring, cb)` (callback; an async callback is awaited
 *     before the next record is taken, so a slow consumer leaves records in
 *     the ring and producers see it fill: their failed reservations are
 *     counted in `lost`, as libbpf users read them from the ring's stats);
 *   - perf event arrays: `PerfReader` (async iterator and callback), with the
 *     PERF_RECORD_LOST counts of every slot summed into `lost`;
 *   - bpf_trace_printk output as a Node Readable stream of trace_pipe lines
 *     (`TracePipe`), which drops (and counts) records when its reader falls
 *     more than `capacity` lines behind, as the kernel's trace ring
 *     overwrites old events.
 * Nothing is lost silently: every reader exposes its drop count.
 */
import { Readable } from 'node:stream';
import { RingBufReader } from '../maps/ringbuf-reader.js';
import { Wakeup, closeOnAbort, type ReaderOptions } from '../maps/wakeup.js';
import { RingBuf } from '../maps/ringbuf.js';
import type { PerfEventArray, PerfRecord } from '../maps/perf-event-array.js';
import type { TraceRecord } from '../helpers/env.js';
import { MapError, type BpfMap } from '../maps/map.js';

/**
 * A ring buffer's records as an async iterable.
 * @deprecated use `new RingBufReader(ring, { signal })` (maps/ringbuf-reader.ts), the same reader.
 */
export function ringbufRecords(ring: RingBuf | BpfMap<unknown>): RingBufReader {
  return new RingBufReader(ringOf(ring));
}

/** The ring buffer behind a map handle; any other map type is EINVAL, as libbpf's ring_buffer__add refuses it. */
function ringOf(map: RingBuf | BpfMap<unknown>): RingBuf {
  if (map instanceof RingBuf) return map;
  throw new MapError('EINVAL', `map ${map.name} is a ${map.type} map, not a ringbuf`, map.name);
}

export interface Consumer {
  /** records delivered */
  readonly records: number;
  /** records producers could not write since the consumer started (the ring or buffer was full) */
  readonly lost: number;
  /** resolves when the consumer stops (close(), or the map closed) */
  readonly done: Promise<void>;
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Call `cb` on each record of the ring. When `cb` returns a promise the next
 * record waits for it (back-pressure: records stay in the ring).
 * @deprecated use `for await (const rec of new RingBufReader(ring, { signal }))`, which waits for the loop body the same way.
 */
export function consumeRingbuf(ring: RingBuf | BpfMap<unknown>, cb: (rec: Uint8Array) => void | Promise<void>): Consumer {
  const reader = new RingBufReader(ringOf(ring));
  let records = 0;
  const done = (async () => {
    for await (const rec of reader) {
      records++;
      const r = cb(rec);
      if (r) await r;
    }
  })();
  return {
    get records() {
      return records;
    },
    get lost() {
      return reader.lost;
    },
    done,
    close: () => reader.close(),
    [Symbol.dispose]: () => reader.close(),
  };
}

/**
 * The reader of a perf event array (libbpf's perf_buffer): opens a buffer
 * per slot (per CPU) unless they are open, and yields records in arrival
 * order per wakeup; `lost` sums the slots' PERF_RECORD_LOST counts.
 */
export class PerfReader implements AsyncIterable<PerfRecord> {
  lost = 0;
  records = 0;
  private queue: PerfRecord[] = [];
  private readonly wakeup = new Wakeup();
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly forgetSignal: () => void;

  constructor(
    readonly map: PerfEventArray,
    opts: { bytesPerCpu?: number; onRecord?: (r: PerfRecord) => void } & ReaderOptions = {},
  ) {
    for (let i = 0; i < Math.min(map.maxEntries, map.numCpus); i++) if (!map.buffer(i)) map.open(i, opts.bytesPerCpu);
    this.unsubscribe = map.onRecord(() => {
      this.pull();
      if (opts.onRecord) for (const r of this.queue.splice(0)) opts.onRecord(r);
      this.wakeup.wake();
    });
    this.forgetSignal = closeOnAbort(opts.signal, () => this.close());
  }

  /** Move what the buffers hold into the queue (draining them makes room for producers). */
  private pull(): void {
    if (this.map.closed) return;
    const { records, lost } = this.map.read();
    this.lost += lost;
    this.records += records.length;
    this.queue.push(...records);
  }

  /** The records available now. */
  read(): PerfRecord[] {
    this.pull();
    return this.queue.splice(0);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PerfRecord> {
    while (!this.closed && !this.map.closed) {
      this.pull();
      const r = this.queue.shift();
      if (r) {
        yield r;
        continue;
      }
      await this.wakeup.wait();
    }
  }

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

/** One trace_pipe line, as the kernel prints it: `comm-pid [cpu] flags ts: bpf_trace_printk: msg`. */
export function formatTraceLine(r: TraceRecord): string {
  const task = `${r.comm}-${r.pid}`.padStart(16);
  const cpu = String(r.cpu).padStart(3, '0');
  const us = r.timestampNs / 1000n;
  const ts = `${us / 1_000_000n}.${String(us % 1_000_000n).padStart(6, '0')}`;
  const msg = r.message.endsWith('\n') ? r.message : `${r.message}\n`;
  return `${task} [${cpu}] d..31 ${ts}: bpf_trace_printk: ${msg}`;
}

/**
 * bpf_trace_printk output as a Readable of trace_pipe text. Give `sink` to
 * the runtime (`new Runtime({ trace: pipe.sink })`). While the consumer
 * does not read, up to `capacity` lines wait; beyond that the newest are
 * dropped and counted in `dropped` (and reported in the stream as a
 * `LOST n EVENTS` line when reading resumes, as trace_pipe does after an
 * overrun).
 */
export class TracePipe extends Readable {
  dropped = 0;
  private pending: string[] = [];
  private wanting = false;
  private unreported = 0;
  readonly sink = (r: TraceRecord): void => this.add(formatTraceLine(r));

  constructor(readonly capacity = 4096) {
    super({ encoding: 'utf8' });
  }

  private add(line: string): void {
    if (this.destroyed) return;
    if (this.wanting && this.pending.length === 0 && this.unreported === 0) {
      this.wanting = this.push(line);
      return;
    }
    if (this.pending.length >= this.capacity) {
      this.dropped++;
      this.unreported++;
      return;
    }
    this.pending.push(line);
  }

  override _read(): void {
    this.wanting = true;
    if (this.unreported) {
      const n = this.unreported;
      this.unreported = 0;
      this.wanting = this.push(`CPU:0 [LOST ${n} EVENTS]\n`);
    }
    while (this.wanting && this.pending.length) this.wanting = this.push(this.pending.shift()!);
  }

  /** End the stream (the readers see 'end' after the pending lines). */
  close(): void {
    if (this.unreported) this.push(`CPU:0 [LOST ${this.unreported} EVENTS]\n`);
    this.unreported = 0;
    for (const l of this.pending.splice(0)) this.push(l);
    this.push(null);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
