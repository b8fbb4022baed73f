/**
 * The helpers of iterator programs that write to the iterator's seq_file
 * (kernel/trace/bpf_trace.c: bpf_seq_printf, bpf_seq_write): the text the
 * reader of the iterator's file gets. The seq_file's buffer is the host's
 * (env.ts HelperKernel.seq, the test kit's iteration: src/testing/iter.ts);
 * a write that does not fit whole marks it overflowed, and the helper says
 * -EOVERFLOW, so that the reader (bpf_seq_read) runs the program again on
 * the same object with an empty buffer.
 *
 * Like the tracing helpers, they are registered by the kit only.
 */
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { err, inSpace, runOf, u32, type SeqOutput } from './env.js';
import { bpfFormat } from './printf.js';
import { probeSpan } from './reach.js';
import { latin1, MAX_VARARGS, readArgs } from './trace.js';

function seqOf(env: ExecEnv, seq: bigint): SeqOutput | undefined {
  return runOf(env).host.kernel?.seq?.(seq);
}

export const seqHelpers: HelperDef[] = [
  // bpf_seq_printf(m, fmt, fmt_size, data, data_len): data holds the u64 arguments
  helper(BPF_FUNC.seq_printf, (env, r1, r2, r3, r4, r5) => {
    const len = u32(r5);
    if (len % 8 !== 0 || len > MAX_VARARGS * 8 || (len !== 0 && r4 === 0n)) return err('EINVAL');
    const args = readArgs(env, r4, len);
    if (!args) return err('EFAULT');
    const size = u32(r3);
    if (!inSpace(env, r2, size)) return err('EFAULT');
    // bpf_bprintf_prepare: the format must end within fmt_size, its conversions have arguments
    const r = bpfFormat(env.space, env.space.bytes(Number(r2), size).slice(), args, (a, n) => probeSpan(env, a, n));
    if (!r.ok) return err(r.errno);
    const out = seqOf(env, r1);
    if (!out) return err('EINVAL');
    return out.write(latin1(r.text)) ? 0n : err('EOVERFLOW');
  }),
  // bpf_seq_write(m, data, len): seq_write's -1 is -EOVERFLOW
  helper(BPF_FUNC.seq_write, (env, r1, r2, r3) => {
    const len = u32(r3);
    if (len !== 0 && !inSpace(env, r2, len)) return err('EFAULT');
    const out = seqOf(env, r1);
    if (!out) return err('EINVAL');
    return out.write(env.space.bytes(Number(r2), len).slice()) ? 0n : err('EOVERFLOW');
  }),
];
