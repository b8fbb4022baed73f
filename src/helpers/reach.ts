/**
 * The reach of the probe-read helpers (bpf_probe_read_kernel/_user/_str and
 * the legacy probe_read) and of the printf family's memory conversions (%s,
 * %pks, %pus, %pI4, %pI6): what an arbitrary pointer may read
 * (docs/security.md).
 *
 * Linux lets these read any kernel address (copy_from_kernel_nofault):
 * privileged tracing is trusted with the whole kernel. In tsbpf the
 * "kernel" is one address space shared by every collection of a runtime, so
 * that would let any program read every other collection's maps. The host's
 * probeReach says which rule applies:
 *
 * - 'space': the whole address space above the NULL guard page (Linux's
 *   privileged behaviour);
 * - 'collection': the running program's own memory (the regions owned by its
 *   probe domain: its maps, global data and stack), the context and packet
 *   of the current run, and 'kernel' regions (what hooks hand programs to
 *   read: probed functions' string and buffer arguments, policy hooks'
 *   paths). Anything else reads as a fault: -EFAULT with the destination
 *   zeroed, exactly the kernel's failure path.
 */
import type { Region } from '../memory/address-space.js';
import { NULL_GUARD } from '../memory/address-space.js';
import type { ExecEnv } from '../vm/helper-abi.js';
import type { HelperRun } from './env.js';

/** A collection's memory: the regions a confined program may probe-read besides the run's own context and packet. */
export interface ProbeDomain {
  owns(r: Region): boolean;
}

/**
 * How many bytes from `addr` a probe read may take (0: none), capped at
 * `want`. Within one region (or the packet) in confined mode: a read that
 * runs past its end is refused as a whole, as a fault in the middle of a
 * copy is in the kernel.
 */
export function probeSpan(env: ExecEnv, addr: bigint, want: number): number {
  const size = env.space.size;
  if (addr < BigInt(NULL_GUARD) || addr >= BigInt(size)) return 0;
  const a = Number(addr);
  const run = env.run as Partial<HelperRun> | undefined;
  // A program of a confined runtime carries its domain, whoever runs it; other hosts say so themselves.
  if (env.owner === undefined && run?.host?.probeReach !== 'collection') return Math.min(want, size - a);
  const pkt = run?.packet;
  if (pkt) {
    const lo = pkt.kind === 'xdp' ? pkt.hardStart : pkt.head;
    const hi = pkt.kind === 'xdp' ? pkt.hardStart + pkt.frameSize : pkt.end;
    if (a >= lo && a < hi) return Math.min(want, hi - a);
  }
  const r = env.space.regionOf(a, 1);
  if (!r) return 0;
  const ok =
    r.kind === 'kernel' ||
    (r.kind === 'ctx' && run?.ctx !== undefined && run.ctx >= r.base && run.ctx < r.base + r.size) ||
    (env.owner !== undefined && (env.owner as ProbeDomain).owns(r));
  return ok ? Math.min(want, r.base + r.size - a) : 0;
}

/** Whether [addr, addr+len) is readable in full. */
export function probeReadable(env: ExecEnv, addr: bigint, len: number): boolean {
  return len === 0 ? addr >= BigInt(NULL_GUARD) && addr <= BigInt(env.space.size) : probeSpan(env, addr, len) === len;
}
