/**
 * Whether this process can put programs into the running kernel, and if not
 * why, in words a user can act on. Checked in order of cost: the platform
 * and the user first (so an unprivileged process never loads the FFI), then
 * koffi, then the kernel itself, with the smallest program it could accept
 * (libbpf's probe_kern_prog_name-style probe, here a socket filter).
 */
import { openSys } from './ffi.js';
import { Features } from './probe.js';

/** Why this process cannot load programs into the running kernel, or undefined when it can. */
export async function kernelUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (bpf(2) needs CAP_BPF)';
  let sys;
  try {
    sys = await openSys();
  } catch (e) {
    return (e as Error).message;
  }
  const f = new Features(sys).progType('socket_filter');
  return f.ok ? undefined : `the kernel refuses BPF programs: ${f.reason}`;
}
