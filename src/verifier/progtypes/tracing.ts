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
import { PT_REGS_SIZE } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';

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

/**
 * raw_tracepoint_writable (raw_tp.w/NAME): a raw tracepoint's context whose first slot, read as a
 * whole u64, is the tracepoint's writable buffer (raw_tp_writable_prog_is_valid_access:
 * PTR_TO_TP_BUFFER, tp-buffer.ts); a narrower read or a write of that slot is refused, the other
 * slots are raw_tracepoint's.
 */
export const RAW_TRACEPOINT_WRITABLE: ProgTypeRules = {
  ...RAW_TRACEPOINT,
  name: 'raw_tracepoint_writable',
  ctxAccess(q) {
    if (q.off === 0) {
      if (q.size !== 8 || q.write) return null;
      return 'tp_buffer';
    }
    return RAW_TRACEPOINT.ctxAccess(q);
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

/**
 * BPF_PROG_TYPE_TRACING (fentry, fexit, fmod_ret, tp_btf): the context is
 * the u64 argument array of the attach target, typed by its BTF prototype
 * (btf_ctx_access). Each argument is one aligned u64 slot, read-only: an
 * integer, enum or struct-by-value argument reads as a number, as does a
 * `void *` or a pointer to an integer; a pointer to a struct is a trusted
 * PTR_TO_BTF_ID (btf-access.ts: read through, checked against the kernel's
 * BTF as btf_struct_access does). fexit
 * and fmod_ret may also read the target's return value in the slot after
 * the last argument. fentry and fexit must return 0; fmod_ret and tp_btf
 * may return anything (check_return_code).
 */
export type TracingAttach = 'trace_fentry' | 'trace_fexit' | 'modify_return' | 'trace_raw_tp' | 'trace_iter' | 'lsm_mac' | 'lsm_cgroup' | 'struct_ops';

/** An argument (or return value) of a tracing target, as btf_ctx_access classifies it. */
export interface TracingArg {
  /** scalar: int, enum, struct by value, void *, int *; btf_ptr: pointer to a struct; other: refused */
  kind: 'scalar' | 'btf_ptr' | 'other';
  /** C spelling of the type, for messages */
  type: string;
  /** the kernel's btf_type_str of the type (for `has type %s`) */
  kindStr: string;
  /** a pointer (void *, int *, struct *): read whole (8 bytes) only */
  ptr?: boolean;
  /** btf_ptr: the kernel BTF id and name of the struct pointed to */
  btfId?: number;
  btfName?: string;
  /** the parameter's name in the prototype (an iterator's context member) */
  name?: string;
  /** btf_ptr: may be NULL (an iterator's ctx_arg_info: PTR_TO_BTF_ID_OR_NULL) */
  maybeNull?: boolean;
  /** btf_ptr: a plain PTR_TO_BTF_ID, not trusted (ctx_arg_info without PTR_TRUSTED) */
  plain?: boolean;
  /** an iterator's key or value buffer (ctx_arg_info's PTR_TO_BUF | PTR_MAYBE_NULL, MEM_RDONLY for 'rdonly'): buf.ts */
  buf?: 'rdonly' | 'rdwr';
}

export interface TracingTarget {
  attach: TracingAttach;
  /** function or tracepoint name (attach_func_name) */
  name: string;
  args: TracingArg[];
  /** the return value's type; undefined for void */
  ret?: TracingArg;
  /** its pointer arguments are plain PTR_TO_BTF_ID, not trusted (prog_args_trusted: lsm hooks of objects being freed) */
  untrusted?: boolean;
}

export function tracingRules(t: TracingTarget): ProgTypeRules {
  const nr = t.args.length;
  return {
    name: 'tracing',
    tracing: t,
    ctxSize: 8 * MAX_BPF_FUNC_ARGS,
    ldAbs: false,
    pktWrite: false,
    unprivileged: false,
    ...(t.attach === 'trace_fentry' || t.attach === 'trace_fexit' ? { retRange: [0, 0] as [number, number] } : {}),
    // check_return_code: an iterator returns 0 or 1 (the default range)
    ...(t.attach === 'trace_iter' ? { retRange: [0, 1] as [number, number] } : {}),
    ctxAccess({ off, size, write }) {
      // bpf_tracing_ctx_access, then btf_ctx_access
      if (off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS || write || off % size !== 0) return null;
      if (off % 8 !== 0) return null;
      const arg = off / 8;
      if (arg > nr) return null;
      let a: TracingArg | undefined;
      if (arg === nr) {
        // btf_ctx_access: lsm programs read the return value as fexit does (a void hook has none)
        if (t.attach === 'trace_fexit' || t.attach === 'lsm_mac' || t.attach === 'lsm_cgroup') {
          if (!t.ret) return null; // a void function has no return value to read
          a = t.ret;
        } else if (t.attach === 'modify_return') {
          if (!t.ret || t.ret.kind !== 'scalar' || t.ret.kindStr !== 'INT') return null;
          a = t.ret;
        } else return null;
      } else a = t.args[arg]!;
      if (a.kind === 'other') return null;
      if (a.ptr && size !== 8) return null;
      // btf_ctx_access looks up ctx_arg_info's buffers before the argument's type
      if (a.buf) return a.buf === 'rdonly' ? 'rdonly_buf' : 'buf';
      if (a.kind === 'btf_ptr') return 'btf_ptr';
      return 'scalar';
    },
  };
}
