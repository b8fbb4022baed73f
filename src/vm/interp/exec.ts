/**
 * The dispatch loop of the interpreter.
 *
 * Registers are pairs of int32 words in an Int32Array (R[2r] low, R[2r+1]
 * high): JavaScript numbers hold 32-bit integers natively, while BigInt
 * arithmetic allocates. 64-bit operations are composed from 32-bit halves
 * (carries, Math.imul decomposition); only wide division falls back to BigInt.
 *
 * Memory accesses are checked against an access window kept in locals: the
 * whole address space above the NULL guard in unchecked mode, or the last
 * region that matched in checked mode. A miss goes to resolveAccess, which
 * either widens the window or throws a VmFault with the exact address.
 *
 * Semantics follow RFC 9669 and the Linux interpreter (kernel/bpf/core.c):
 * 32-bit ALU results are zero-extended; shift counts are masked to the
 * operand width; division by zero yields 0 and modulo by zero keeps the
 * dividend; signed division overflow does not trap.
 */
import { BudgetExceeded, CallDepthExceeded, UnknownHelper, UnsupportedInsn } from '../fault.js';
import * as D from './decode.js';
import { FRAME_WORDS, type Activation, type RunState } from './state.js';
import {
  BREAK, EXIT, STOP, atomic, callHelper, isInterpTarget, ldPacket, mul64, probeLoad, resolveAccess, runForeign, sdivmod64,
  tailCallTarget, udivmod64,
} from './slow.js';
import { BPF_MAX_LOOPS, MAX_CALL_FRAMES } from '../../isa/opcodes.js';

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/**
 * Run `act` until it exits (EXIT; r0 is in act.R), pauses (STOP: a pausable
 * activation ran out of `left`) or reaches a breakpoint (BREAK). Throws the
 * typed errors of ../fault.ts.
 */
export function exec(st: RunState, act: Activation): number {
  const R = act.R;
  const frames = st.frames;
  let prog = act.prog;
  let code = prog.code;
  let offs = prog.off;
  let imms = prog.imm;
  let pc = act.pc;
  let depth = act.depth;
  const base = act.base;
  let left = st.left;
  let dv = st.dv;
  let u8 = st.u8;
  let rLo = st.rLo;
  let rHi = st.rHi;
  let wLo = st.wLo;
  let wHi = st.wHi;
  const stackBase = st.stackBase;
  const stride = st.stride;
  st.cur = act;

  for (;;) {
    if (--left < 0) {
      left = 0;
      if (act.pausable || st.reserve === 0) {
        act.pc = pc;
        act.depth = depth;
        st.left = 0;
        if (act.pausable) return STOP;
        throw st.exhausted(pc);
      }
      left = st.refill(pc) - 1;
    }
    const w = code[pc]!;
    const d = (w >>> 9) & 31;
    const s = w >>> 14;
    // Case labels are literals (internal opcodes from decode.ts written out with
    // their names in comments) so that V8 compiles the switch to a jump table.
    switch (w & 0x1ff) {
      // ---------------------------------------------------------------- ALU64
      case 0x07: { // add dst, imm
        const a = R[d]!;
        const b = imms[pc]!;
        const lo = (a + b) | 0;
        R[d + 1] = (R[d + 1]! + (b >> 31) + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
        R[d] = lo;
        pc++;
        continue;
      }
      case 0x0f: { // add dst, src
        const a = R[d]!;
        const b = R[s]!;
        const lo = (a + b) | 0;
        R[d + 1] = (R[d + 1]! + R[s + 1]! + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
        R[d] = lo;
        pc++;
        continue;
      }
      case 0x17: { // sub dst, imm
        const a = R[d]!;
        const b = imms[pc]!;
        R[d + 1] = (R[d + 1]! - (b >> 31) - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
        R[d] = (a - b) | 0;
        pc++;
        continue;
      }
      case 0x1f: { // sub dst, src
        const a = R[d]!;
        const b = R[s]!;
        R[d + 1] = (R[d + 1]! - R[s + 1]! - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
        R[d] = (a - b) | 0;
        pc++;
        continue;
      }
      case 0x27: { // mul dst, imm
        const b = imms[pc]!;
        mul64(R, d, b, b >> 31);
        pc++;
        continue;
      }
      case 0x2f: // mul dst, src
        mul64(R, d, R[s]!, R[s + 1]!);
        pc++;
        continue;
      case 0x37: { // div dst, imm (imm sign-extended, then unsigned division)
        const b = imms[pc]!;
        udivmod64(R, d, b, b >> 31, false);
        pc++;
        continue;
      }
      case 0x3f:
        udivmod64(R, d, R[s]!, R[s + 1]!, false);
        pc++;
        continue;
      case 0x97: {
        const b = imms[pc]!;
        udivmod64(R, d, b, b >> 31, true);
        pc++;
        continue;
      }
      case 0x9f:
        udivmod64(R, d, R[s]!, R[s + 1]!, true);
        pc++;
        continue;
      case 0x109 /* I_SDIV64_K */: {
        const b = imms[pc]!;
        sdivmod64(R, d, b, b >> 31, false);
        pc++;
        continue;
      }
      case 0x10a /* I_SDIV64_X */:
        sdivmod64(R, d, R[s]!, R[s + 1]!, false);
        pc++;
        continue;
      case 0x10b /* I_SMOD64_K */: {
        const b = imms[pc]!;
        sdivmod64(R, d, b, b >> 31, true);
        pc++;
        continue;
      }
      case 0x10c /* I_SMOD64_X */:
        sdivmod64(R, d, R[s]!, R[s + 1]!, true);
        pc++;
        continue;
      case 0x47: { // or
        const b = imms[pc]!;
        R[d] |= b;
        R[d + 1] |= b >> 31;
        pc++;
        continue;
      }
      case 0x4f:
        R[d] |= R[s]!;
        R[d + 1] |= R[s + 1]!;
        pc++;
        continue;
      case 0x57: { // and
        const b = imms[pc]!;
        R[d] &= b;
        R[d + 1] &= b >> 31;
        pc++;
        continue;
      }
      case 0x5f:
        R[d] &= R[s]!;
        R[d + 1] &= R[s + 1]!;
        pc++;
        continue;
      case 0xa7: { // xor
        const b = imms[pc]!;
        R[d] ^= b;
        R[d + 1] ^= b >> 31;
        pc++;
        continue;
      }
      case 0xaf:
        R[d] ^= R[s]!;
        R[d + 1] ^= R[s + 1]!;
        pc++;
        continue;
      case 0x67: // lsh
      case 0x6f: {
        const n = ((w & 0x1ff) === 0x67 ? imms[pc]! : R[s]!) & 63;
        if (n !== 0) {
          const lo = R[d]!;
          if (n < 32) {
            R[d + 1] = (R[d + 1]! << n) | (lo >>> (32 - n));
            R[d] = lo << n;
          } else {
            R[d + 1] = lo << (n - 32);
            R[d] = 0;
          }
        }
        pc++;
        continue;
      }
      case 0x77: // rsh
      case 0x7f: {
        const n = ((w & 0x1ff) === 0x77 ? imms[pc]! : R[s]!) & 63;
        if (n !== 0) {
          const hi = R[d + 1]!;
          if (n < 32) {
            R[d] = (R[d]! >>> n) | (hi << (32 - n));
            R[d + 1] = hi >>> n;
          } else {
            R[d] = hi >>> (n - 32);
            R[d + 1] = 0;
          }
        }
        pc++;
        continue;
      }
      case 0xc7: // arsh
      case 0xcf: {
        const n = ((w & 0x1ff) === 0xc7 ? imms[pc]! : R[s]!) & 63;
        if (n !== 0) {
          const hi = R[d + 1]!;
          if (n < 32) {
            R[d] = (R[d]! >>> n) | (hi << (32 - n));
            R[d + 1] = hi >> n;
          } else {
            R[d] = hi >> (n - 32);
            R[d + 1] = hi >> 31;
          }
        }
        pc++;
        continue;
      }
      case 0x87: { // neg
        const lo = R[d]!;
        R[d + 1] = (~R[d + 1]! + (lo === 0 ? 1 : 0)) | 0;
        R[d] = -lo | 0;
        pc++;
        continue;
      }
      case 0xb7: { // mov dst, imm (sign-extended)
        const b = imms[pc]!;
        R[d] = b;
        R[d + 1] = b >> 31;
        pc++;
        continue;
      }
      case 0xbf:
        R[d] = R[s]!;
        R[d + 1] = R[s + 1]!;
        pc++;
        continue;
      case 0x10f /* I_MOVSX64_8 */: {
        const v = (R[s]! << 24) >> 24;
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }
      case 0x110 /* I_MOVSX64_16 */: {
        const v = (R[s]! << 16) >> 16;
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }
      case 0x111 /* I_MOVSX64_32 */: {
        const v = R[s]!;
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }

      // ---------------------------------------------------------------- ALU (32-bit, zero-extending)
      case 0x04:
        R[d] = (R[d]! + imms[pc]!) | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x0c:
        R[d] = (R[d]! + R[s]!) | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x14:
        R[d] = (R[d]! - imms[pc]!) | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x1c:
        R[d] = (R[d]! - R[s]!) | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x24:
        R[d] = Math.imul(R[d]!, imms[pc]!);
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x2c:
        R[d] = Math.imul(R[d]!, R[s]!);
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x34:
      case 0x3c: {
        const b = ((w & 0x1ff) === 0x34 ? imms[pc]! : R[s]!) >>> 0;
        R[d] = b === 0 ? 0 : ((R[d]! >>> 0) / b) >>> 0;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x94:
      case 0x9c: {
        const b = ((w & 0x1ff) === 0x94 ? imms[pc]! : R[s]!) >>> 0;
        if (b !== 0) R[d] = (R[d]! >>> 0) % b;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x105 /* I_SDIV32_K */:
      case 0x106 /* I_SDIV32_X */: {
        const b = (w & 0x1ff) === D.I_SDIV32_K ? imms[pc]! : R[s]!;
        const a = R[d]!;
        // INT32_MIN / -1 overflows to INT32_MIN, which (a / b) | 0 also yields.
        R[d] = b === 0 ? 0 : (a / b) | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x107 /* I_SMOD32_K */:
      case 0x108 /* I_SMOD32_X */: {
        const b = (w & 0x1ff) === D.I_SMOD32_K ? imms[pc]! : R[s]!;
        if (b !== 0) R[d] = b === -1 ? 0 : R[d]! % b | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x44:
        R[d] |= imms[pc]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x4c:
        R[d] |= R[s]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x54:
        R[d] &= imms[pc]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x5c:
        R[d] &= R[s]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xa4:
        R[d] ^= imms[pc]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xac:
        R[d] ^= R[s]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x64:
        R[d] <<= imms[pc]! & 31;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x6c:
        R[d] <<= R[s]! & 31;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x74:
        R[d] = R[d]! >>> (imms[pc]! & 31);
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x7c:
        R[d] = R[d]! >>> (R[s]! & 31);
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xc4:
        R[d] >>= imms[pc]! & 31;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xcc:
        R[d] >>= R[s]! & 31;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x84:
        R[d] = -R[d]! | 0;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xb4:
        R[d] = imms[pc]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0xbc:
        R[d] = R[s]!;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x10d /* I_MOVSX32_8 */:
        R[d] = (R[s]! << 24) >> 24;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x10e /* I_MOVSX32_16 */:
        R[d] = (R[s]! << 16) >> 16;
        R[d + 1] = 0;
        pc++;
        continue;

      // ---------------------------------------------------------------- byte order
      case 0x112 /* I_LE16 */:
        R[d] &= 0xffff;
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x113 /* I_LE32 */:
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x114 /* I_LE64 */:
        pc++;
        continue;
      case 0x115 /* I_BE16 */: {
        const v = R[d]!;
        R[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x116 /* I_BE32 */:
        R[d] = bswap32(R[d]!);
        R[d + 1] = 0;
        pc++;
        continue;
      case 0x117 /* I_BE64 */: {
        const lo = R[d]!;
        R[d] = bswap32(R[d + 1]!);
        R[d + 1] = bswap32(lo);
        pc++;
        continue;
      }

      // ---------------------------------------------------------------- JMP (64-bit compares)
      case 0x05:
      case 0x06: // gotol: target precomputed from imm
        pc = offs[pc]!;
        continue;
      case 0xe5: // may_goto (Linux 6.9): fall through while the budget lasts, then jump
        if (act.mayGoto === 0) pc = offs[pc]!;
        else {
          act.mayGoto--;
          pc++;
        }
        continue;
      case 0x15: {
        const b = imms[pc]!;
        pc = R[d] === b && R[d + 1] === b >> 31 ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x1d:
        pc = R[d] === R[s] && R[d + 1] === R[s + 1] ? offs[pc]! : pc + 1;
        continue;
      case 0x55: {
        const b = imms[pc]!;
        pc = R[d] !== b || R[d + 1] !== b >> 31 ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x5d:
        pc = R[d] !== R[s] || R[d + 1] !== R[s + 1] ? offs[pc]! : pc + 1;
        continue;
      case 0x45: {
        const b = imms[pc]!;
        pc = (R[d]! & b) !== 0 || (R[d + 1]! & (b >> 31)) !== 0 ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x4d:
        pc = (R[d]! & R[s]!) !== 0 || (R[d + 1]! & R[s + 1]!) !== 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x25: { // jgt
        const b = imms[pc]!;
        const ah = R[d + 1]! >>> 0;
        const bh = (b >> 31) >>> 0;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 > b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x2d: { // jgt (reg)
        const ah = R[d + 1]! >>> 0;
        const bh = R[s + 1]! >>> 0;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 > R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x35: { // jge
        const b = imms[pc]!;
        const ah = R[d + 1]! >>> 0;
        const bh = (b >> 31) >>> 0;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 >= b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x3d: { // jge (reg)
        const ah = R[d + 1]! >>> 0;
        const bh = R[s + 1]! >>> 0;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 >= R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xa5: { // jlt
        const b = imms[pc]!;
        const ah = R[d + 1]! >>> 0;
        const bh = (b >> 31) >>> 0;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 < b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xad: { // jlt (reg)
        const ah = R[d + 1]! >>> 0;
        const bh = R[s + 1]! >>> 0;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 < R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xb5: { // jle
        const b = imms[pc]!;
        const ah = R[d + 1]! >>> 0;
        const bh = (b >> 31) >>> 0;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 <= b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xbd: { // jle (reg)
        const ah = R[d + 1]! >>> 0;
        const bh = R[s + 1]! >>> 0;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 <= R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x65: { // jsgt
        const b = imms[pc]!;
        const ah = R[d + 1]!;
        const bh = b >> 31;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 > b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x6d: { // jsgt (reg)
        const ah = R[d + 1]!;
        const bh = R[s + 1]!;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 > R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x75: { // jsge
        const b = imms[pc]!;
        const ah = R[d + 1]!;
        const bh = b >> 31;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 >= b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0x7d: { // jsge (reg)
        const ah = R[d + 1]!;
        const bh = R[s + 1]!;
        pc = ah > bh || (ah === bh && R[d]! >>> 0 >= R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xc5: { // jslt
        const b = imms[pc]!;
        const ah = R[d + 1]!;
        const bh = b >> 31;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 < b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xcd: { // jslt (reg)
        const ah = R[d + 1]!;
        const bh = R[s + 1]!;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 < R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xd5: { // jsle
        const b = imms[pc]!;
        const ah = R[d + 1]!;
        const bh = b >> 31;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 <= b >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }
      case 0xdd: { // jsle (reg)
        const ah = R[d + 1]!;
        const bh = R[s + 1]!;
        pc = ah < bh || (ah === bh && R[d]! >>> 0 <= R[s]! >>> 0) ? offs[pc]! : pc + 1;
        continue;
      }

      // ---------------------------------------------------------------- JMP32 (low 32 bits)
      case 0x16:
        pc = R[d] === imms[pc] ? offs[pc]! : pc + 1;
        continue;
      case 0x1e:
        pc = R[d] === R[s] ? offs[pc]! : pc + 1;
        continue;
      case 0x56:
        pc = R[d] !== imms[pc] ? offs[pc]! : pc + 1;
        continue;
      case 0x5e:
        pc = R[d] !== R[s] ? offs[pc]! : pc + 1;
        continue;
      case 0x46:
        pc = (R[d]! & imms[pc]!) !== 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x4e:
        pc = (R[d]! & R[s]!) !== 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x26:
        pc = R[d]! >>> 0 > imms[pc]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x2e:
        pc = R[d]! >>> 0 > R[s]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x36:
        pc = R[d]! >>> 0 >= imms[pc]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x3e:
        pc = R[d]! >>> 0 >= R[s]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0xa6:
        pc = R[d]! >>> 0 < imms[pc]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0xae:
        pc = R[d]! >>> 0 < R[s]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0xb6:
        pc = R[d]! >>> 0 <= imms[pc]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0xbe:
        pc = R[d]! >>> 0 <= R[s]! >>> 0 ? offs[pc]! : pc + 1;
        continue;
      case 0x66:
        pc = R[d]! > imms[pc]! ? offs[pc]! : pc + 1;
        continue;
      case 0x6e:
        pc = R[d]! > R[s]! ? offs[pc]! : pc + 1;
        continue;
      case 0x76:
        pc = R[d]! >= imms[pc]! ? offs[pc]! : pc + 1;
        continue;
      case 0x7e:
        pc = R[d]! >= R[s]! ? offs[pc]! : pc + 1;
        continue;
      case 0xc6:
        pc = R[d]! < imms[pc]! ? offs[pc]! : pc + 1;
        continue;
      case 0xce:
        pc = R[d]! < R[s]! ? offs[pc]! : pc + 1;
        continue;
      case 0xd6:
        pc = R[d]! <= imms[pc]! ? offs[pc]! : pc + 1;
        continue;
      case 0xde:
        pc = R[d]! <= R[s]! ? offs[pc]! : pc + 1;
        continue;

      // ---------------------------------------------------------------- loads (LDX, MEMSX)
      case 0x61: { // ldxw
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 4 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 4, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = dv.getInt32(a, true);
        R[d] = v;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x69: { // ldxh
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 2 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 2, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = dv.getUint16(a, true);
        R[d] = v;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x71: { // ldxb
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 1 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 1, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = u8[a]!;
        R[d] = v;
        R[d + 1] = 0;
        pc++;
        continue;
      }
      case 0x81: { // ldxsw
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 4 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 4, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = dv.getInt32(a, true);
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }
      case 0x89: { // ldxsh
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 2 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 2, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = dv.getInt16(a, true);
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }
      case 0x91: { // ldxsb
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 1 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 1, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const v = (u8[a]! << 24) >> 24;
        R[d] = v;
        R[d + 1] = v >> 31;
        pc++;
        continue;
      }
      case 0x79: { // ldxdw
        let a = (R[s]! >>> 0) + offs[pc]!;
        if (R[s + 1] !== 0 || a < rLo || a + 8 > rHi) {
          a = resolveAccess(st, pc, R[s]!, R[s + 1]!, offs[pc]!, 8, false);
          rLo = st.rLo;
          rHi = st.rHi;
        }
        const lo = dv.getInt32(a, true);
        R[d + 1] = dv.getInt32(a + 4, true);
        R[d] = lo;
        pc++;
        continue;
      }

      // ---------------------------------------------------------------- stores (ST imm, STX reg)
      case 0x62: { // stw
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 4 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 4, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        dv.setInt32(a, imms[pc]!, true);
        pc++;
        continue;
      }
      case 0x6a: { // sth
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 2 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 2, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        dv.setInt16(a, imms[pc]!, true);
        pc++;
        continue;
      }
      case 0x72: { // stb
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 1 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 1, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        u8[a] = imms[pc]!;
        pc++;
        continue;
      }
      case 0x63: { // stxw
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 4 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 4, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        dv.setInt32(a, R[s]!, true);
        pc++;
        continue;
      }
      case 0x6b: { // stxh
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 2 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 2, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        dv.setInt16(a, R[s]!, true);
        pc++;
        continue;
      }
      case 0x73: { // stxb
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 1 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 1, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        u8[a] = R[s]!;
        pc++;
        continue;
      }
      case 0x7a: // stdw
      case 0x7b: { // stxdw
        let a = (R[d]! >>> 0) + offs[pc]!;
        if (R[d + 1] !== 0 || a < wLo || a + 8 > wHi) {
          a = resolveAccess(st, pc, R[d]!, R[d + 1]!, offs[pc]!, 8, true);
          wLo = st.wLo;
          wHi = st.wHi;
        }
        if ((w & 0x1ff) === 0x7b) {
          dv.setInt32(a, R[s]!, true);
          dv.setInt32(a + 4, R[s + 1]!, true);
        } else {
          const v = imms[pc]!;
          dv.setInt32(a, v, true);
          dv.setInt32(a + 4, v >> 31, true);
        }
        pc++;
        continue;
      }
      case 0x118 /* I_ATOMIC */:
        st.left = left;
        atomic(st, act, pc);
        // atomics may create typed-array views only; windows are unchanged
        pc++;
        continue;

      // ---------------------------------------------------------------- lddw
      case 0x18:
        R[d] = imms[pc]!;
        R[d + 1] = offs[pc]!;
        pc += 2;
        continue;

      // ---------------------------------------------------------------- calls and exit
      case 0x85: // call helper
      case 0x8d: { // callx: the helper whose id is in dst
        let id: number;
        if ((w & 0x1ff) === 0x85) id = imms[pc]!;
        else {
          if (R[d + 1] !== 0 || R[d]! < 0) throw new UnknownHelper(pc, Number(((BigInt(R[d + 1]! >>> 0) << 32n) | BigInt(R[d]! >>> 0))));
          id = R[d]!;
        }
        act.pc = pc;
        act.depth = depth;
        st.left = left;
        callHelper(st, act, id, pc);
        left = st.left;
        dv = st.dv;
        u8 = st.u8;
        rLo = st.rLo;
        rHi = st.rHi;
        wLo = st.wLo;
        wHi = st.wHi;
        pc++;
        continue;
      }
      case 0x102 /* I_CALL_LOCAL */: {
        if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthExceeded(pc, depth + 2);
        // Save the callee-saved r6..r9 and the return slot; the callee gets a fresh r10.
        const f = depth * FRAME_WORDS;
        for (let i = 0; i < 8; i++) frames[f + i] = R[12 + i]!;
        frames[f + 8] = pc + 1;
        // each function invocation has its own may_goto budget (the kernel
        // initialises the hidden slot in every subprogram's prologue)
        frames[f + 9] = act.mayGoto;
        act.mayGoto = BPF_MAX_LOOPS;
        depth++;
        R[20] = stackBase + (depth + 1) * stride;
        R[21] = 0;
        pc = offs[pc]!;
        continue;
      }
      case 0x95: { // exit
        if (depth === base) {
          act.pc = pc;
          act.depth = depth;
          st.left = left;
          return EXIT;
        }
        depth--;
        const f = depth * FRAME_WORDS;
        for (let i = 0; i < 8; i++) R[12 + i] = frames[f + i]!;
        pc = frames[f + 8]!;
        act.mayGoto = frames[f + 9]!;
        R[20] = stackBase + (depth + 1) * stride;
        R[21] = 0;
        continue;
      }
      case 0x103 /* I_TAIL_CALL */: {
        act.pc = pc;
        act.depth = depth;
        st.left = left;
        const target = tailCallTarget(st, act);
        if (target === undefined) {
          pc++;
          continue;
        }
        // The target replaces the running program: same r1 (and, as in the
        // kernel's interpreter, the other registers), the frame stack reset.
        depth = base;
        act.mayGoto = BPF_MAX_LOOPS;
        R[20] = stackBase + (depth + 1) * stride;
        R[21] = 0;
        if (isInterpTarget(target)) {
          prog = target.decoded;
          act.prog = prog;
          act.exe = target;
          code = prog.code;
          offs = prog.off;
          imms = prog.imm;
          pc = 0;
          continue;
        }
        runForeign(st, act, target, pc);
        act.depth = depth;
        return EXIT;
      }
      case 0x104 /* I_KFUNC */:
        throw new UnsupportedInsn(pc, `kfunc call (btf id ${imms[pc]}) is not supported by the interpreter`);
      case 0x119 /* I_LDPKT */:
        st.left = left;
        act.depth = depth;
        if (!ldPacket(st, act, pc)) {
          // Out of bounds: the function returns 0, as the kernel's rewrite of ld_abs/ld_ind
          // (bpf_gen_ld_abs: r0 = 0; exit) does; in the main program that ends the run.
          R[0] = 0;
          R[1] = 0;
          if (depth === base) {
            act.pc = pc;
            act.depth = base;
            return EXIT;
          }
          // inside a bpf-to-bpf function (allowed with BTF since Linux 5.x): return to its caller, as `exit` does
          depth--;
          const f = depth * FRAME_WORDS;
          for (let i = 0; i < 8; i++) R[12 + i] = frames[f + i]!;
          pc = frames[f + 8]!;
          act.mayGoto = frames[f + 9]!;
          R[20] = stackBase + (depth + 1) * stride;
          R[21] = 0;
          continue;
        }
        pc++;
        continue;
      case 0x11a /* I_PROBE_MEM */:
        probeLoad(st, act, pc);
        pc++;
        continue;
      case 0x101 /* I_BREAK */:
        act.pc = pc;
        act.depth = depth;
        st.left = left + 1; // the breakpoint itself executed nothing
        return BREAK;
      default:
        throw new UnsupportedInsn(pc, `invalid opcode 0x${(prog.insns[pc]?.code ?? 0).toString(16).padStart(2, '0')}`);
    }
  }
}
