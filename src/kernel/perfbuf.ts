/**
 * The perf buffer (libbpf's perf_buffer): one PERF_COUNT_SW_BPF_OUTPUT
 * event per CPU, its fd stored in the perf_event_array at the CPU's index,
 * its ring mmap'ed (a header page, struct perf_event_mmap_page, then
 * 2^n data pages). Records are PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW (a u32
 * size and the bytes bpf_perf_event_output wrote, padded by the kernel so
 * that size + 4 is a multiple of 8) and PERF_RECORD_LOST (the count of
 * samples the kernel dropped because the ring was full), which `lost` sums.
 */
import { MapError } from '../maps/map.js';
import { closeOnAbort, type ReaderOptions } from '../maps/wakeup.js';
import { PROT_READ, PROT_WRITE, type Sys } from './ffi.js';
import type { KernelMap } from './map.js';
import { nextTurn, Poller } from './poller.js';
import { PERF_COUNT_SW_BPF_OUTPUT, PERF_EVENT_IOC_ENABLE, PERF_FLAG_FD_CLOEXEC, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE, perfEventAttr, onlineCpus } from './perf-event.js';

const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
/** struct perf_event_mmap_page: data_head, data_tail, data_offset, data_size */
const DATA_HEAD = 1024;
const DATA_TAIL = 1032;

export interface KernelPerfRecord {
  cpu: number;
  data: Uint8Array;
}

export interface KernelPerfOptions extends ReaderOptions {
  /** data pages per CPU, a power of two (libbpf's page_cnt); default 8 */
  pages?: number;
  onRecord?: (r: KernelPerfRecord) => void;
  onLost?: (cpu: number, count: number) => void;
}

interface CpuRing {
  cpu: number;
  fd: number;
  mem: unknown;
  u8: Uint8Array;
  pos: BigUint64Array;
}

export class KernelPerfReader implements AsyncIterable<KernelPerfRecord> {
  lost = 0;
  records = 0;
  private readonly rings: CpuRing[] = [];
  private readonly page: number;
  private readonly dataSize: number;
  private readonly poller: Poller;
  private queue: KernelPerfRecord[] = [];
  private closed = false;
  private forgetSignal: () => void = () => {};

  constructor(
    readonly map: KernelMap,
    private readonly opts: KernelPerfOptions = {},
  ) {
    if (map.type !== 'perf_event_array') throw new MapError('EINVAL', `a perf buffer needs a perf_event_array map, not ${map.type}`, map.name);
    const pages = opts.pages ?? 8;
    if (pages < 1 || (pages & (pages - 1)) !== 0) throw new MapError('EINVAL', `perf buffer pages must be a power of two, not ${pages}`, map.name);
    const sys = map.sys;
    this.page = sys.pageSize();
    this.dataSize = pages * this.page;
    this.poller = new Poller(sys);
    try {
      for (const cpu of onlineCpus().filter((c) => c < map.maxEntries)) this.open(sys, cpu);
    } catch (e) {
      this.close();
      throw e;
    }
    if (opts.onRecord) void this.loop();
    this.forgetSignal = closeOnAbort(opts.signal, () => this.close());
  }

  private open(sys: Sys, cpu: number): void {
    const attr = perfEventAttr(sys, { type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_BPF_OUTPUT), sampleType: PERF_SAMPLE_RAW });
    const fd = sys.perfEventOpen(attr.bytes, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC, `perf buffer on CPU ${cpu}`);
    let mem: unknown;
    try {
      mem = sys.mmap(this.page + this.dataSize, PROT_READ | PROT_WRITE, fd, 0, `perf buffer on CPU ${cpu}`);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
    const ab = sys.view(mem, this.page + this.dataSize);
    this.rings.push({ cpu, fd, mem, u8: new Uint8Array(ab), pos: new BigUint64Array(ab, DATA_HEAD, 2) });
    sys.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0, `perf buffer on CPU ${cpu}`);
    this.map.set(cpu, fd);
    this.poller.add(fd, cpu);
  }

  /** Drain every CPU's ring into the queue (perf_event_read_simple). */
  private pull(): void {
    if (this.closed) return;
    for (const r of this.rings) {
      const head = Atomics.load(r.pos, 0);
      let tail = Atomics.load(r.pos, 1);
      const size = BigInt(this.dataSize);
      while (tail < head) {
        const at = (o: bigint): number => this.page + Number(o % size);
        // the header may wrap: copy it, then the record, byte by byte around the end
        const hdr = this.copy(r, at(tail), 8);
        const hv = new DataView(hdr.buffer);
        const type = hv.getUint32(0, true);
        const recSize = hv.getUint16(6, true);
        if (recSize < 8) break;
        const rec = this.copy(r, at(tail), recSize);
        const rv = new DataView(rec.buffer);
        if (type === PERF_RECORD_SAMPLE) {
          const n = rv.getUint32(8, true);
          this.queue.push({ cpu: r.cpu, data: rec.slice(12, 12 + n) });
          this.records++;
        } else if (type === PERF_RECORD_LOST) {
          const n = Number(rv.getBigUint64(16, true));
          this.lost += n;
          this.opts.onLost?.(r.cpu, n);
        }
        tail += BigInt(recSize);
      }
      Atomics.store(r.pos, 1, tail);
    }
  }

  private copy(r: CpuRing, start: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const end = this.page + this.dataSize;
    const first = Math.min(len, end - start);
    out.set(r.u8.subarray(start, start + first));
    if (first < len) out.set(r.u8.subarray(this.page, this.page + len - first), first);
    return out;
  }

  read(): KernelPerfRecord[] {
    this.pull();
    return this.queue.splice(0);
  }

  private async loop(): Promise<void> {
    // as KernelRingBufReader: nothing is delivered before the constructor has returned
    await nextTurn();
    while (!this.closed) {
      for (const rec of this.read()) this.opts.onRecord!(rec);
      await this.poller.wait();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<KernelPerfRecord> {
    while (!this.closed) {
      this.pull();
      const r = this.queue.shift();
      if (r) {
        yield r;
        continue;
      }
      await this.poller.wait();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forgetSignal();
    this.poller.close();
    const sys = this.map.sys;
    for (const r of this.rings) {
      try {
        this.map.delete(r.cpu);
      } catch {
        // the map may be closed already
      }
      sys.munmap(r.mem, this.page + this.dataSize);
      sys.close(r.fd);
    }
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
