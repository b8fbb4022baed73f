/**
 * PTR_TO_TP_BUFFER: the buffer a writable raw tracepoint hands its program
 * (BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, `raw_tp.w/NAME` sections: the first
 * context slot, raw_tp_writable_prog_is_valid_access). The tracepoint is not
 * known at load: the verifier allows reads and writes at any constant,
 * non-negative offset and records the farthest end (prog->aux->max_tp_access);
 * attaching to a tracepoint whose writable_size is smaller fails then
 * (bpf_probe_register: EINVAL). Follows verifier.c's check_mem_access
 * PTR_TO_TP_BUFFER branch and check_tp_buffer_access. The pointer is never
 * NULL, may move by constants (adjust_ptr_min_max_vals' default case) and is
 * no memory argument of any helper (check_reg_type's mem_types leave it out).
 */
import type { Reg } from './types.js';
import type { Verifier } from './env.js';
import { checkBufferOffset } from './buf.js';
import { loadedScalar } from './ldst.js';

/** check_tp_buffer_access: a load yields an unknown number of its size; a store may write anything. */
export function tpBufferAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean): Reg | undefined {
  const o = checkBufferOffset(env, ptrReg, base, off, size, 'tracepoint',
    'access the tracepoint buffer at constant offsets: its size is known only when the program is attached');
  env.maxTpAccess = Math.max(env.maxTpAccess, o + size);
  return write ? undefined : loadedScalar(size, signExtend);
}
