/**
 * PTR_TO_BUF: the key and value buffers an iterator's context hands the
 * program (bpf_iter__bpf_map_elem's key and value, bpf_iter__sockmap's key,
 * bpf_iter__bpf_sk_storage_map's value; the targets' ctx_arg_info). The
 * buffer's size is the map's, which the verifier does not know: it allows
 * any access at a non-negative constant offset and records the farthest end
 * (max_rdonly_access, max_rdwr_access); attaching the iterator to a map
 * whose key or value is smaller fails then (bpf_iter_attach_map: EACCES).
 * A key is read-only (MEM_RDONLY). Follows the kernel's check_mem_access
 * PTR_TO_BUF branch, check_buffer_access and __check_buffer_access.
 */
import type { Reg } from './types.js';
import { regTypeStr } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { tnumStr } from './tnum.js';
import { loadedScalar } from './ldst.js';

/** check_buffer_access: `size` bytes at the buffer pointer's fixed offset plus `off`; records the farthest end. */
export function checkBufferAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean): void {
  const i = env.idx;
  if (write && base.rdonly) throw new Reject({
    errno: 'EACCES',
    message: `R${ptrReg} cannot write into ${regTypeStr(base)}`,
    insn: i,
    regs: [ptrReg],
    hint: 'an iterator\'s key buffer is read-only: copy the key to the stack to change it',
    rule: 'a read-only buffer (PTR_TO_BUF | MEM_RDONLY) is written',
  });
  const o = checkBufferOffset(env, ptrReg, base, off, size, base.rdonly ? 'rdonly' : 'rdwr',
    'access the buffer at constant offsets: its size is known only when the iterator is attached');
  if (base.rdonly) env.maxRdonlyAccess = Math.max(env.maxRdonlyAccess, o + size);
  else env.maxRdwrAccess = Math.max(env.maxRdwrAccess, o + size);
}

/**
 * __check_buffer_access, shared by the buffers whose size the verifier does not know (PTR_TO_BUF,
 * PTR_TO_TP_BUFFER: tp-buffer.ts): a constant, non-negative offset. Returns the offset from the
 * buffer's start (the pointer's fixed offset plus `off`).
 */
export function checkBufferOffset(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, bufInfo: string, hint: string): number {
  const i = env.idx;
  const o = base.off + off;
  if (o < 0) throw new Reject({
    errno: 'EACCES',
    message: `R${ptrReg} invalid ${bufInfo} buffer access: off=${o}, size=${size}`,
    insn: i,
    regs: [ptrReg],
    rule: 'a buffer is accessed before its start',
  });
  if (!base.s.isConst() || base.s.varOff.value !== 0n) throw new Reject({
    errno: 'EACCES',
    message: `R${ptrReg} invalid variable buffer offset: off=${o}, var_off=${tnumStr(base.s.varOff)}`,
    insn: i,
    regs: [ptrReg],
    hint,
    rule: 'a buffer is accessed at a variable offset',
  });
  return o;
}

/** A load or store through a PTR_TO_BUF (check_mem_access): a load yields an unknown number of its size. */
export function bufAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean): Reg | undefined {
  checkBufferAccess(env, ptrReg, base, off, size, write);
  return write ? undefined : loadedScalar(size, signExtend);
}
