/**
 * struct perf_event_attr (include/uapi/linux/perf_event.h, 136 bytes in
 * PERF_ATTR_SIZE_VER8), the fields the backend sets: probes and tracepoints
 * (attach.ts) and the perf buffer's BPF output events (perfbuf.ts).
 */
import { readFileSync } from 'node:fs';
import { nativeBuf } from './attr.js';

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
  /** kprobe_func / uprobe_path pointer */
  config1?: bigint;
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

export function perfEventAttr(a: PerfAttr): Uint8Array {
  const b = nativeBuf(136);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, a.type, true);
  dv.setUint32(4, 136, true); // size
  dv.setBigUint64(8, a.config, true);
  // sample_period (or sample_freq with attr.freq): every event unless asked
  dv.setBigUint64(16, a.sampleFreq !== undefined ? BigInt(a.sampleFreq) : (a.samplePeriod ?? 1n), true);
  if (a.sampleFreq !== undefined) dv.setBigUint64(40, ATTR_FREQ, true);
  dv.setBigUint64(24, BigInt(a.sampleType ?? 0), true);
  dv.setUint32(48, 1, true); // wakeup_events: wake the reader on every sample
  dv.setBigUint64(56, a.config1 ?? 0n, true);
  dv.setBigUint64(64, a.config2 ?? 0n, true);
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

