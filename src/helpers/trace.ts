/**
 * bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf. The text goes to the
 * runtime's trace sink (the kernel writes it to the trace_pipe), formatted
 * with the kernel's format rules (see printf.ts).
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, runOf, u32 } from './env.js';
import { bpfFormat } from './printf.js';
import { probeSpan } from './reach.js';

/** MAX_BPRINTF_BUF: the trace buffer bstr_printf writes into. */
const MAX_BPRINTF_BUF = 512;
/** MAX_BPRINTF_VARARGS */
export const MAX_VARARGS = 12;

function emit(env: ExecEnv, fmtAddr: bigint, fmtSize: number, args: bigint[]): bigint {
  if (!inSpace(env, fmtAddr, fmtSize)) return err('EFAULT');
  const r = bpfFormat(env.space, env.space.bytes(Number(fmtAddr), fmtSize).slice(), args, (a, n) => probeSpan(env, a, n));
  if (!r.ok) return err(r.errno);
  const run = runOf(env);
  const bytes = latin1(r.text);
  // vsnprintf into a 512-byte buffer: the message is cut there, the length returned is the full one.
  const message = r.text.slice(0, MAX_BPRINTF_BUF - 1);
  run.host.trace({
    message,
    program: run.progName,
    cpu: env.cpu,
    pid: run.host.task.pid,
    comm: run.host.task.comm,
    timestampNs: run.host.clock.monotonicNs(),
  });
  return BigInt(bytes.length);
}

export function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function readArgs(env: ExecEnv, addr: bigint, len: number): bigint[] | undefined {
  if (len === 0) return [];
  if (!inSpace(env, addr, len)) return undefined;
  const out: bigint[] = [];
  for (let i = 0; i < len; i += 8) out.push(env.space.readU64(Number(addr) + i));
  return out;
}

export const traceHelpers: HelperDef[] = [
  // The kernel declares only the format and its size (bpf_trace_printk_proto): r3..r5 are
  // ARG_DONTCARE, so `bpf_printk("x %d", v)` with r4, r5 never written is accepted.
  helper(BPF_FUNC.trace_printk, (env, r1, r2, r3, r4, r5) =>
    emit(env, r1, u32(r2), [r3, r4, r5])),
  helper(BPF_FUNC.trace_vprintk, (env, r1, r2, r3, r4) => {
    const len = u32(r4);
    if (len % 8 !== 0 || len > MAX_VARARGS * 8 || (len !== 0 && r3 === 0n)) return err('EINVAL');
    const args = readArgs(env, r3, len);
    if (!args) return err('EFAULT');
    return emit(env, r1, u32(r2), args);
  }),
  helper(BPF_FUNC.snprintf, (env, r1, r2, r3, r4, r5) => {
    const len = u32(r5);
    if (len % 8 !== 0 || len > MAX_VARARGS * 8 || (len !== 0 && r4 === 0n)) return err('EINVAL');
    const args = readArgs(env, r4, len);
    if (!args) return err('EFAULT');
    if (!inSpace(env, r3, 1)) return err('EFAULT');
    const fa = Number(r3);
    const u8 = env.space.u8;
    let end = fa;
    while (end < u8.length && u8[end] !== 0) end++;
    const r = bpfFormat(env.space, u8.slice(fa, end + 1), args, (a, n) => probeSpan(env, a, n));
    if (!r.ok) return err(r.errno);
    const text = latin1(r.text);
    const size = u32(r2);
    if (size > 0) {
      if (!inSpace(env, r1, size)) return err('EFAULT');
      const n = Math.min(text.length, size - 1);
      env.space.u8.set(text.subarray(0, n), Number(r1));
      env.space.u8[Number(r1) + n] = 0;
    }
    // bstr_printf's return (the untruncated length) plus the NUL.
    return BigInt(text.length + 1);
  }),
];
