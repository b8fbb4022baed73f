/**
 * Test runs whose only input is a context buffer.
 *
 * - raw_tracepoint (bpf_prog_test_run_raw_tp): ctx_in of at most 12 u64
 *   arguments; data_in, repeat and ctx_out are refused (EINVAL).
 * - syscall (bpf_prog_test_run_syscall): ctx_in up to 65535 bytes, written
 *   back after the run; data_in, repeat and flags are refused (EINVAL).
 * - kprobe and tracepoint: the kernel has no test run for these (ENOTSUPP);
 *   tsbpf runs them on a context buffer — struct pt_regs for kprobes (168
 *   bytes on x86-64, zero-padded), the tracepoint's record for tracepoints —
 *   so that tracing programs can be tested without attaching them.
 */
import { PT_REGS_SIZE } from '../../uapi/ctx.js';
import type { AddressSpace } from '../../memory/address-space.js';
import { BPF_F_TEST_RUN_ON_CPU, TestRunError, type TestRunOptions, type TestRunResult } from './types.js';
import type { PreparedRun } from './run.js';

/** MAX_BPF_FUNC_ARGS * sizeof(u64) */
const RAW_TP_MAX_CTX = 12 * 8;

export function prepareCtxBuffer(space: AddressSpace, progType: string, opts: TestRunOptions, numCpus: number, maxCtxOffset = 0): PreparedRun {
  const ctxIn = opts.ctx ?? new Uint8Array(0);
  let size = ctxIn.length;
  let writeBack = false;
  // tracing (tp_btf, fentry, ...): the context is the target's u64 argument array, like a raw tracepoint's
  if (progType === 'raw_tracepoint' || progType === 'tracing') {
    if (opts.data || opts.repeat) throw new TestRunError('EINVAL', 'raw tracepoint test runs take no data_in and no repeat');
    if (size > RAW_TP_MAX_CTX) throw new TestRunError('EINVAL', `ctx_in of ${size} bytes exceeds ${RAW_TP_MAX_CTX}`);
    // bpf_prog_test_run_raw_tp: ctx_size_in < prog->aux->max_ctx_offset is EINVAL (the program would read past it)
    if (progType !== 'tracing' && size < maxCtxOffset) throw new TestRunError('EINVAL', `ctx_in of ${size} bytes is shorter than the ${maxCtxOffset} the program reads`);
    const flags = opts.flags ?? 0;
    // bpf_prog_test_run_raw_tp reads BPF_F_TEST_RUN_ON_CPU and ignores the other bits (Linux 6.18 runs with
    // flags 1 << 5: test/kernel-rawtp-run.test.ts); tsbpf's tracing runs keep refusing them
    if (progType === 'tracing' && flags & ~BPF_F_TEST_RUN_ON_CPU) throw new TestRunError('EINVAL', 'unknown flags');
    if (!(flags & BPF_F_TEST_RUN_ON_CPU) && opts.cpu) throw new TestRunError('EINVAL', 'cpu needs BPF_F_TEST_RUN_ON_CPU');
    if (opts.cpu && opts.cpu >= numCpus) throw new TestRunError('ENXIO', `cpu ${opts.cpu} is not online`);
  } else if (progType === 'syscall') {
    if (opts.data || opts.repeat || opts.flags) throw new TestRunError('EINVAL', 'syscall test runs take no data_in, repeat or flags');
    if (size > 0xffff) throw new TestRunError('EINVAL', `ctx_in of ${size} bytes exceeds 65535`);
    writeBack = true;
  } else {
    if (opts.data) throw new TestRunError('EINVAL', `${progType} test runs take a context buffer, not data_in`);
    if (progType === 'kprobe') size = Math.max(size, PT_REGS_SIZE);
  }
  const cpu = opts.flags && opts.flags & BPF_F_TEST_RUN_ON_CPU ? opts.cpu ?? 0 : 0;
  // The kernel passes NULL for an empty raw_tp/syscall context.
  const ctx = size ? space.alloc(size) : 0;
  const region = size ? space.addRegion({ base: ctx, size, kind: 'ctx', name: `${progType} context`, writable: progType === 'syscall' }) : undefined;
  if (size) space.write(ctx, ctxIn);
  return {
    ctx,
    cpu,
    finish(retval: number, duration: number): TestRunResult {
      // raw_tp and syscall runs report no duration in the kernel.
      const out: TestRunResult = { retval, duration: progType === 'kprobe' || progType === 'tracepoint' ? duration : 0 };
      if (writeBack && ctxIn.length) out.ctx = space.bytes(ctx, ctxIn.length).slice();
      return out;
    },
    release(): void {
      if (region) space.removeRegion(region);
      if (size) space.free(ctx);
    },
  };
}
