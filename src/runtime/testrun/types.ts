/**
 * BPF_PROG_TEST_RUN's inputs and outputs (union bpf_attr.test), in the shape
 * tsbpf's Program.run takes and returns.
 */
import { TsbpfError, type Errno } from '../../errors.js';
import type { RedirectTarget } from '../../helpers/env.js';
import type { RunDeadline } from '../../vm/engine.js';

export interface TestRunOptions {
  /** data_in: the packet (networking programs) */
  data?: Uint8Array;
  /** ctx_in: the context struct (struct xdp_md, struct __sk_buff) or buffer (tracing, syscall) */
  ctx?: Uint8Array;
  /** runs; the kernel treats 0 as 1. Tracing-style types refuse any repeat (EINVAL). */
  repeat?: number;
  /** test.flags: BPF_F_TEST_SKB_CHECKSUM_COMPLETE (skb), BPF_F_TEST_RUN_ON_CPU (raw_tp) */
  flags?: number;
  /** test.cpu (only raw_tp with BPF_F_TEST_RUN_ON_CPU) */
  cpu?: number;
  /** data_size_out: a smaller output buffer than the packet gives ENOSPC, as the kernel's */
  dataSizeOut?: number;
  /**
   * Stop each repetition that runs past this (tsbpf's addition; default the
   * runtime's runDeadline): the run throws RunDeadlineExceeded (ETIME).
   */
  deadline?: RunDeadline;
}

export interface TestRunResult {
  /** r0 as the kernel reports it: the low 32 bits, unsigned */
  retval: number;
  /** data_out: the packet after the run (xdp: from data_meta, so metadata included) */
  data?: Uint8Array;
  /** ctx_out: the context after the run (struct fields the kernel copies back) */
  ctx?: Uint8Array;
  /** average ns per run, truncated like the kernel's (u32) */
  duration: number;
  /** where a redirect helper sent the packet, if one did */
  redirect?: RedirectTarget;
}

export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
export const BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2;

/** BPF_PROG_TEST_RUN refused the input (or failed) with this errno. */
export class TestRunError extends TsbpfError {
  constructor(errno: Errno, message: string) {
    super(errno, `test run: ${message}`);
  }
}

export const PAGE_SIZE = 4096;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: the tailroom of every test buffer. */
export const SKB_SHINFO_SIZE = 320;
export const ETH_HLEN = 14;
export const XDP_PACKET_HEADROOM = 256;
/** NET_SKB_PAD (max(32, L1_CACHE_BYTES=64)) + NET_IP_ALIGN (0 on x86) */
export const SKB_HEADROOM = 64;
export const MAX_SKB_FRAGS = 17;
/** SKB_DATA_ALIGN: cache-line (64-byte) alignment of the data area. */
export const skbDataAlign = (n: number): number => Math.ceil(n / 64) * 64;
