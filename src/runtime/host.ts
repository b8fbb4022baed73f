/**
 * The runtime's side of the helper ABI (helpers/env.ts HelperHost): clocks,
 * the current task's identity, the trace_printk sink, the random source, and
 * maps by descriptor address.
 */
import type { HelperClock, HelperHost, HelperKernel, HelperMap, TaskIdentity, TraceRecord } from '../helpers/env.js';
import { nowMs } from '../clock.js';

/** Jiffies tick at CONFIG_HZ=250 (Debian's kernels): 4 ms. */
const TICK_NS = 4_000_000n;
/** INITIAL_JIFFIES: the kernel starts jiffies 5 minutes before 32-bit wrap-around. */
const INITIAL_JIFFIES = BigInt.asUintN(64, BigInt(-300 * 250));

/**
 * The platform's monotonic clock (src/clock.ts, in Node and browsers),
 * offset so that it reads like a machine up for a while: programs that
 * subtract timestamps see real elapsed time.
 */
export function systemClock(): HelperClock {
  const base = 1_000_000_000n;
  const nowNs = (): bigint => base + BigInt(Math.round(nowMs() * 1e6));
  return {
    monotonicNs: nowNs,
    boottimeNs: nowNs,
    coarseNs: () => (nowNs() / TICK_NS) * TICK_NS,
    jiffies64: () => BigInt.asUintN(64, INITIAL_JIFFIES + nowNs() / TICK_NS),
  };
}

/** A manual clock for reproducible runs: time moves only when `advance` is called. */
export class ManualClock implements HelperClock {
  constructor(public ns = 1_000_000_000n) {}
  advance(ns: bigint | number): void {
    this.ns += BigInt(ns);
  }
  monotonicNs(): bigint {
    return this.ns;
  }
  boottimeNs(): bigint {
    return this.ns;
  }
  coarseNs(): bigint {
    return (this.ns / TICK_NS) * TICK_NS;
  }
  jiffies64(): bigint {
    return BigInt.asUintN(64, INITIAL_JIFFIES + this.ns / TICK_NS);
  }
}

/** The host process as the "current task", where the platform can tell. */
export function defaultIdentity(): TaskIdentity {
  const p = (globalThis as { process?: { pid?: number; getuid?: () => number; getgid?: () => number; title?: string } }).process;
  const pid = p?.pid ?? 1;
  return { pid, tgid: pid, uid: p?.getuid?.() ?? 0, gid: p?.getgid?.() ?? 0, comm: (p?.title ?? 'tsbpf').split('/').pop()!.slice(0, 15) };
}

/** xorshift128+ : fast, seedable (bpf_get_prandom_u32 is prandom, not a CSPRNG, in the kernel too). */
export function prandom(seed?: number): () => number {
  let s0 = BigInt.asUintN(64, BigInt(seed ?? Math.floor(Math.random() * 2 ** 52)) * 0x9e3779b97f4a7c15n + 1n);
  let s1 = BigInt.asUintN(64, s0 * 0xbf58476d1ce4e5b9n + 0x94d049bb133111ebn);
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x = BigInt.asUintN(64, x ^ (x << 23n));
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return Number(BigInt.asUintN(64, s1 + y) >> 32n);
  };
}

export type TraceSink = (rec: TraceRecord) => void;

export class RuntimeHost implements HelperHost {
  constructor(
    readonly clock: HelperClock,
    readonly task: TaskIdentity,
    private readonly sink: TraceSink,
    readonly prandomU32: () => number,
    readonly numCpus: number,
    readonly privileged: boolean,
    private readonly lookupMap: (addr: number) => HelperMap | undefined,
    private readonly lookupRecord: (addr: number) => HelperMap | undefined,
    readonly probeReach: 'collection' | 'space' = 'collection',
    readonly kernel?: HelperKernel,
  ) {}
  mapAt(addr: number): HelperMap | undefined {
    return this.lookupMap(addr);
  }
  /** ringbuf_submit/discard: the ring that handed out `addr`. */
  ringOfRecord(addr: number): HelperMap | undefined {
    return this.lookupRecord(addr);
  }
  trace(rec: TraceRecord): void {
    this.sink(rec);
  }
}
