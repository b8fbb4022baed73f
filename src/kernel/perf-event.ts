/**
 * struct perf_event_attr (include/uapi/linux/perf_event.h, 136 bytes in
 * PERF_ATTR_SIZE_VER8), the fields the backend sets: probes and tracepoints
 * (attach.ts) and the perf buffer's BPF output events (perfbuf.ts).
 */
import { readFileSync } from 'node:fs';
import { Attr } from './attr.js';
import type { Sys } from './ffi.js';

export const PERF_TYPE_SOFTWARE = 1;
export const PERF_TYPE_TRACEPOINT = 2;
export const PERF_COUNT_SW_BPF_OUTPUT = 10;
export const PERF_SAMPLE_RAW = 1 << 10;
export const PERF_FLAG_FD_CLOEXEC = 8;
export const PERF_EVENT_IOC_ENABLE = 0x2400;
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;

export interface PerfAttr {
  type: number;
  config: bigint;
  /** kprobe_func / uprobe_path: the NUL-terminated name, which the attr keeps alive (the kernel reads it at perf_event_open) */
  config1?: Uint8Array;
  /** probe_offset */
  config2?: bigint;
  sampleType?: number;
  /** sample every N events (default 1) */
  samplePeriod?: bigint;
  /** or N times a second (attr.freq) */
  sampleFreq?: number;
}

export const PERF_COUNT_SW_CPU_CLOCK = 0;
/** attr.freq: bit 10 of the flags word after read_format */
const ATTR_FREQ = 1n << 10n;

export function perfEventAttr(sys: Sys, a: PerfAttr): Attr {
  const b = new Attr(sys, 136);
  b.u32(0, a.type).u32(4, 136); // size
  b.u64(8, a.config);
  // sample_period (or sample_freq with attr.freq): every event unless asked
  b.u64(16, a.sampleFreq !== undefined ? BigInt(a.sampleFreq) : (a.samplePeriod ?? 1n));
  if (a.sampleFreq !== undefined) b.u64(40, ATTR_FREQ);
  b.u64(24, BigInt(a.sampleType ?? 0));
  b.u32(48, 1); // wakeup_events: wake the reader on every sample
  if (a.config1) b.ptr(56, a.config1);
  b.u64(64, a.config2 ?? 0n);
  return b;
}

/** The online CPUs, from /sys/devices/system/cpu/online ("0-3,5"). */
export function onlineCpus(): number[] {
  try {
    const out: number[] = [];
    for (const r of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
      const [a, b] = r.split('-').map(Number);
      for (let c = a!; c <= (b ?? a!); c++) out.push(c);
    }
    return out;
  } catch {
    return [0];
  }
}

