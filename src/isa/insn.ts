/**
 * The instruction: one 64-bit slot of RFC 9669 section 3.
 *
 * A program is an array of slots. The wide `lddw` instruction occupies two
 * consecutive slots exactly as in the byte encoding (the second slot has
 * opcode 0 and carries the upper 32 bits in `imm`), so instruction indices,
 * jump offsets and the kernel verifier log all count the same way.
 */
import { InstructionError } from '../errors.js';
import { OP_LDDW } from './opcodes.js';

export interface Insn {
  /** 8-bit opcode */
  code: number;
  /** destination register, 0..15 as encoded (valid: 0..10) */
  dst: number;
  /** source register, 0..15 as encoded (valid: 0..10) */
  src: number;
  /** signed 16-bit offset */
  off: number;
  /** signed 32-bit immediate */
  imm: number;
}

export type Endian = 'le' | 'be';

export const INSN_SIZE = 8;

export function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code: code & 0xff, dst: dst & 0xf, src: src & 0xf, off: (off << 16) >> 16, imm: imm | 0 };
}

/**
 * Decode raw bytes into instruction slots. Little-endian objects put dst in the
 * low nibble of byte 1 and src in the high nibble; big-endian ones swap the
 * nibbles and store off/imm big-endian (RFC 9669 3.1).
 */
export function decode(bytes: Uint8Array, endian: Endian = 'le'): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new InstructionError(
      Math.floor(bytes.length / INSN_SIZE),
      `program length ${bytes.length} is not a multiple of ${INSN_SIZE} bytes`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = endian === 'le';
  const out: Insn[] = new Array(bytes.length / INSN_SIZE);
  for (let i = 0, p = 0; p < bytes.length; i++, p += INSN_SIZE) {
    const regs = bytes[p + 1]!;
    out[i] = {
      code: bytes[p]!,
      dst: le ? regs & 0xf : regs >> 4,
      src: le ? regs >> 4 : regs & 0xf,
      off: dv.getInt16(p + 2, le),
      imm: dv.getInt32(p + 4, le),
    };
  }
  return out;
}

/** Encode instruction slots into bytes (the inverse of {@link decode}). */
export function encode(insns: readonly Insn[], endian: Endian = 'le'): Uint8Array {
  const bytes = new Uint8Array(insns.length * INSN_SIZE);
  const dv = new DataView(bytes.buffer);
  const le = endian === 'le';
  insns.forEach((ins, i) => {
    const p = i * INSN_SIZE;
    bytes[p] = ins.code & 0xff;
    bytes[p + 1] = le ? (ins.dst & 0xf) | ((ins.src & 0xf) << 4) : ((ins.dst & 0xf) << 4) | (ins.src & 0xf);
    dv.setInt16(p + 2, ins.off, le);
    dv.setInt32(p + 4, ins.imm, le);
  });
  return bytes;
}

/** Parse instructions written as hex bytes ("b7 00 00 00 01 00 00 00 ..."), whitespace ignored. */
export function fromHex(text: string): Insn[] {
  const clean = text.replace(/0x/gi, '').replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new InstructionError(0, 'odd number of hex digits');
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.substr(i * 2, 2), 16);
  return decode(bytes);
}

export function toHex(insns: readonly Insn[], sep = ' '): string {
  return Array.from(encode(insns), (b) => b.toString(16).padStart(2, '0')).join(sep);
}

export const isLddw = (ins: Insn): boolean => ins.code === OP_LDDW;

/** The 64-bit immediate of the lddw at `i` (low half in slot i, high half in slot i+1). */
export function lddwImm64(insns: readonly Insn[], i: number): bigint {
  const lo = BigInt(insns[i]!.imm >>> 0);
  const hi = BigInt(insns[i + 1]!.imm >>> 0);
  return (hi << 32n) | lo;
}

/** The two slots of `lddw dst, imm64` (with an optional pseudo source). */
export function lddw(dst: number, imm64: bigint, src = 0): [Insn, Insn] {
  const v = BigInt.asUintN(64, imm64);
  return [
    insn(OP_LDDW, dst, src, 0, Number(BigInt.asIntN(32, v))),
    insn(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
  ];
}

export function cloneInsns(insns: readonly Insn[]): Insn[] {
  return insns.map((i) => ({ ...i }));
}
