/**
 * BPF_PROG_TEST_RUN with the user-space runtime's options and result
 * (runtime/testrun/types.ts): the kernel copies the packet and the context
 * back, reports r0 (u32) and the average duration, and refuses what it
 * refuses with the same errno names the user-space test run uses.
 */
import type { ProgTypeName } from '../object/spec.js';
import { TestRunError, type TestRunOptions, type TestRunResult } from '../runtime/testrun/types.js';
import { Attr, TEST, nativeBuf } from './attr.js';
import { BPF_CMD, KernelError, type Sys } from './ffi.js';

/** sizeof the context struct the kernel copies out (struct xdp_md, struct __sk_buff). */
const CTX_OUT: Partial<Record<ProgTypeName, number>> = { xdp: 24, sched_cls: 192, sched_act: 192, socket_filter: 192, cgroup_skb: 192, lwt_in: 192, lwt_out: 192, lwt_xmit: 192, flow_dissector: 56 };
/** room for a program that grows the packet (bpf_xdp_adjust_tail / skb_change_tail up to a page) */
const DATA_SLACK = 4096;

export function runTest(sys: Sys, fd: number, type: ProgTypeName, opts: TestRunOptions): TestRunResult {
  const a = new Attr(sys);
  a.u32(TEST.prog_fd, fd);
  let dataOut: Uint8Array | undefined;
  if (opts.data) {
    a.ptr(TEST.data_in, opts.data);
    a.u32(TEST.data_size_in, opts.data.length);
    dataOut = a.ptr(TEST.data_out, nativeBuf(opts.dataSizeOut ?? opts.data.length + DATA_SLACK));
    a.u32(TEST.data_size_out, dataOut.length);
  }
  let ctxOut: Uint8Array | undefined;
  if (opts.ctx) {
    a.ptr(TEST.ctx_in, opts.ctx);
    a.u32(TEST.ctx_size_in, opts.ctx.length);
    const n = CTX_OUT[type];
    if (n !== undefined) {
      ctxOut = a.ptr(TEST.ctx_out, nativeBuf(Math.max(n, opts.ctx.length)));
      a.u32(TEST.ctx_size_out, ctxOut.length);
    }
  }
  a.u32(TEST.repeat, opts.repeat ?? 0).u32(TEST.flags, opts.flags ?? 0).u32(TEST.cpu, opts.cpu ?? 0);
  try {
    sys.bpf(BPF_CMD.PROG_TEST_RUN, a.bytes);
  } catch (e) {
    if (e instanceof KernelError) {
      // bpf_prog_test_run: a program type without a test_run op answers ENOTSUPP
      const why = e.errno === 'ENOTSUPP' || e.errno === 'EOPNOTSUPP' ? `the kernel cannot test-run ${type} programs` : e.message.replace(/^[^:]*: /, '');
      throw new TestRunError(e.errno, `BPF_PROG_TEST_RUN: ${why}`);
    }
    throw e;
  }
  const out: TestRunResult = { retval: a.getU32(TEST.retval), duration: a.getU32(TEST.duration) };
  if (dataOut) out.data = dataOut.slice(0, a.getU32(TEST.data_size_out));
  if (ctxOut) out.ctx = ctxOut.slice(0, a.getU32(TEST.ctx_size_out));
  return out;
}
