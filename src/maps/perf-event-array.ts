/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY: per-CPU event buffers that programs write
 * with bpf_perf_event_output and the host reads.
 *
 * In the kernel each slot holds a perf event fd whose mmap'ed ring receives
 * PERF_RECORD_SAMPLE records, and a record that does not fit is counted and
 * later reported as PERF_RECORD_LOST. Here the host opens a buffer per slot
 * (`open(index, bytes)`; `openAll()` for every CPU), records are accounted
 * with the kernel's sizes (8-byte perf header + u32 raw size + data, rounded
 * up to 8) against the buffer's capacity, and a record that does not fit is
 * dropped, counted in `lost` and returned to the program as -ENOSPC.
 *
 * bpf_perf_event_output's flags: the low 32 bits select the slot
 * (BPF_F_CURRENT_CPU = the running CPU); other bits are EINVAL; a slot past
 * max_entries is E2BIG; a slot with no open buffer is ENOENT. The kernel
 * additionally refuses (EOPNOTSUPP) a slot whose event is bound to another
 * CPU; tsbpf buffers are not bound to a CPU, so any slot may be written.
 * bpf(2) lookups are ENOTSUPP as in the kernel; delete closes a buffer.
 */
import type { MapSpec } from '../object/spec.js';
import { errno, type KeyInput, type MapContext } from './map.js';
import { FdArray } from './fd-array.js';
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK } from './flags.js';

export interface PerfRecord {
  /** the slot (CPU) the record was written to */
  cpu: number;
  data: Uint8Array;
}

export class PerfBuffer {
  readonly records: Uint8Array[] = [];
  used = 0;
  /** records dropped because the buffer was full (PERF_RECORD_LOST) */
  lost = 0;
  private static nextId = 1;
  readonly id = PerfBuffer.nextId++;
  constructor(readonly capacity: number) {}
  static recordSize(len: number): number {
    return Math.ceil((8 + 4 + len) / 8) * 8;
  }
  push(data: Uint8Array): boolean {
    const sz = PerfBuffer.recordSize(data.length);
    if (this.used + sz > this.capacity) {
      this.lost++;
      return false;
    }
    this.records.push(data);
    this.used += sz;
    return true;
  }
  drain(): Uint8Array[] {
    const out = this.records.splice(0);
    this.used = 0;
    return out;
  }
}

export class PerfEventArray extends FdArray<PerfBuffer> {
  private readonly listeners = new Set<(cpu: number) => void>();

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
  }

  protected handleOf(b: PerfBuffer): number {
    return b.id;
  }
  protected resolve(): PerfBuffer {
    throw this.err('EINVAL', 'perf_event_array slots are opened with open(index, bytes), not set from bytes');
  }
  override get(_key: KeyInput): never {
    throw this.err('ENOTSUPP', 'perf_event_array elements cannot be looked up');
  }

  /** Open (or replace) the buffer of slot `index`, `bytes` large (default 64 pages, like many tools' default). */
  open(index: number, bytes = 64 * 4096): PerfBuffer {
    this.checkHostWrite();
    if (index >>> 0 >= this.maxEntries) throw this.err('E2BIG', `index ${index} >= max_entries ${this.maxEntries}`);
    const b = new PerfBuffer(bytes);
    this.store(index >>> 0, b);
    return b;
  }
  /** Open a buffer for each slot up to min(max_entries, numCpus). */
  openAll(bytes?: number): void {
    for (let i = 0; i < Math.min(this.maxEntries, this.numCpus); i++) this.open(i, bytes);
  }
  buffer(index: number): PerfBuffer | undefined {
    return this.slots.get(index >>> 0);
  }

  /** bpf_perf_event_output(ctx, map, flags, data, size): 0 or a negative errno. */
  output(flags: bigint, dataAddr: number, size: number, cpu = 0): number {
    if (flags & ~BPF_F_INDEX_MASK) return errno('EINVAL');
    let index = Number(flags & BPF_F_INDEX_MASK);
    if (BigInt(index) === BPF_F_CURRENT_CPU) index = cpu;
    if (index >= this.maxEntries) return errno('E2BIG');
    const b = this.slots.get(index);
    if (!b) return errno('ENOENT');
    if (!b.push(this.space.bytes(dataAddr, size).slice())) return errno('ENOSPC');
    for (const cb of this.listeners) queueMicrotask(() => cb(index));
    return 0;
  }

  /** A sample the helper built (bpf_perf_event_output, context bytes included) to slot `index`, waking the readers: 0 or a negative errno. */
  deliver(index: number, data: Uint8Array): number {
    const b = this.slots.get(index >>> 0);
    if (!b) return errno('ENOENT');
    if (!b.push(data)) return errno('ENOSPC');
    for (const cb of this.listeners) queueMicrotask(() => cb(index));
    return 0;
  }

  /** Drain every open buffer: records in slot order, and the lost counts (reset). */
  read(): { records: PerfRecord[]; lost: number } {
    const records: PerfRecord[] = [];
    let lost = 0;
    for (const [i, b] of this.occupied()) {
      for (const data of b.drain()) records.push({ cpu: i, data });
      lost += b.lost;
      b.lost = 0;
    }
    return { records, lost };
  }

  /** Called (as a microtask) after a record lands in slot `cpu`. */
  onRecord(cb: (cpu: number) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  protected override freeStorage(): void {
    this.listeners.clear();
    this.slots.clear();
  }
}
