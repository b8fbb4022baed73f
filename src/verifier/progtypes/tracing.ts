/**
 * Tracing programs: read-only contexts of plain numbers.
 * - kprobe: `struct pt_regs` of x86-64 (21 u64 registers, 168 bytes); any
 *   aligned read inside it (kprobe_prog_is_valid_access).
 * - tracepoint: the raw record of the tracepoint; the first 8 bytes (the
 *   common fields) are not readable, reads up to PERF_MAX_TRACE_SIZE
 *   (tp_prog_is_valid_access).
 * - raw_tracepoint: up to 12 u64 arguments (MAX_BPF_FUNC_ARGS).
 * - perf_event: `struct bpf_perf_event_data` (pt_regs, sample_period u64, addr u64).
 */
import type { ProgTypeRules } from './index.js';

export const PT_REGS_SIZE = 168;
export const PERF_MAX_TRACE_SIZE = 8192;
export const MAX_BPF_FUNC_ARGS = 12;

export const KPROBE: ProgTypeRules = {
  name: 'kprobe',
  ctxSize: PT_REGS_SIZE,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write }) {
    if (off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0 || off + size > PT_REGS_SIZE) return null;
    return 'scalar';
  },
};

export const TRACEPOINT: ProgTypeRules = {
  name: 'tracepoint',
  ctxSize: PERF_MAX_TRACE_SIZE,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write }) {
    if (off < 8 || off >= PERF_MAX_TRACE_SIZE || write || off % size !== 0) return null;
    return 'scalar';
  },
};

export const RAW_TRACEPOINT: ProgTypeRules = {
  name: 'raw_tracepoint',
  ctxSize: 8 * MAX_BPF_FUNC_ARGS,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write }) {
    if (off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS || write || off % size !== 0) return null;
    return 'scalar';
  },
};

export const PERF_EVENT: ProgTypeRules = {
  name: 'perf_event',
  ctxSize: PT_REGS_SIZE + 16,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write }) {
    if (off < 0 || off >= PT_REGS_SIZE + 16 || write || off % size !== 0) return null;
    // sample_period and addr are u64 fields that allow narrow reads.
    if (off >= PT_REGS_SIZE && size !== 8 && (size & (size - 1)) !== 0) return null;
    return 'scalar';
  },
};
