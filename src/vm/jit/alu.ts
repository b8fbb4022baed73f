/**
 * ALU emission (RFC 9669 4): the 64- and 32-bit arithmetic, moves, byte
 * swaps and eBPF's total division, on the register locals. A 32-bit result
 * is zero-extended into its register, as every 32-bit ALU op is.
 */
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import { calleeStart } from '../../isa/control-flow.js';
import { CompileError } from './compile-error.js';
import type { FunctionCompiler } from './function-compiler.js';
import { L_T32, REG } from './layout.js';
import { I32, I64, Op } from './wasm.js';

/** ALU ops that map to one WebAssembly instruction: [i64 op, i32 op] */
const SIMPLE_ALU: Record<number, [number, number]> = {
  [op.BPF_ADD]: [Op.i64_add, Op.i32_add],
  [op.BPF_SUB]: [Op.i64_sub, Op.i32_sub],
  [op.BPF_MUL]: [Op.i64_mul, Op.i32_mul],
  [op.BPF_OR]: [Op.i64_or, Op.i32_or],
  [op.BPF_AND]: [Op.i64_and, Op.i32_and],
  [op.BPF_XOR]: [Op.i64_xor, Op.i32_xor],
  // WebAssembly shifts take the count modulo the width, exactly the masking
  // eBPF specifies (RFC 9669 4.1: "masked to 63 / 31").
  [op.BPF_LSH]: [Op.i64_shl, Op.i32_shl],
  [op.BPF_RSH]: [Op.i64_shr_u, Op.i32_shr_u],
  [op.BPF_ARSH]: [Op.i64_shr_s, Op.i32_shr_s],
};

/** lddw (RFC 9669 5.4): a 64-bit immediate, or a callback's slot (BPF_PSEUDO_FUNC). */
export function lddw(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const hi = fc.insns[pc + 1]!.imm;
  if (ins.src === op.BPF_PSEUDO_FUNC) c.i64Const32(calleeStart(ins, pc)); // callbacks are named by slot
  else if ((hi === 0 && ins.imm >= 0) || (hi === -1 && ins.imm < 0)) c.i64Const32(ins.imm);
  else c.i64Const((BigInt(hi) << 32n) | BigInt(ins.imm >>> 0));
  c.localSet(REG[ins.dst]!);
}

/** The 64-bit source operand: register, or the immediate sign-extended (RFC 9669 4.1). */
function src64(fc: FunctionCompiler, ins: Insn): void {
  if (op.sourceOf(ins.code) === op.BPF_X) fc.c.localGet(REG[ins.src]!);
  else fc.c.i64Const32(ins.imm);
}

/** The 32-bit source operand: the register's low half, or the immediate. */
function src32(fc: FunctionCompiler, ins: Insn): void {
  if (op.sourceOf(ins.code) === op.BPF_X) {
    fc.c.localGet(REG[ins.src]!);
    fc.c.op(Op.i32_wrap_i64);
  } else fc.c.i32Const(ins.imm);
}

function dst32(fc: FunctionCompiler, ins: Insn): void {
  fc.c.localGet(REG[ins.dst]!);
  fc.c.op(Op.i32_wrap_i64);
}

/** Every 32-bit result is zero-extended into the 64-bit register (RFC 9669 4.1). */
function done32(fc: FunctionCompiler, ins: Insn): void {
  fc.c.op(Op.i64_extend_i32_u);
  fc.c.localSet(REG[ins.dst]!);
}

export function alu64(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const d = REG[ins.dst]!;
  const simple = SIMPLE_ALU[o];
  if (simple) {
    c.localGet(d);
    src64(fc, ins);
    c.op(simple[0]);
    c.localSet(d);
    return;
  }
  switch (o) {
    case op.BPF_MOV:
      if (x) {
        c.localGet(REG[ins.src]!);
        // MOVSX (v4): sign-extend the low 8/16/32 bits (RFC 9669 4.1).
        if (ins.off === 8) c.op(Op.i64_extend8_s);
        else if (ins.off === 16) c.op(Op.i64_extend16_s);
        else if (ins.off === 32) c.op(Op.i64_extend32_s);
      } else c.i64Const32(ins.imm);
      c.localSet(d);
      return;
    case op.BPF_NEG:
      c.i64Const32(0);
      c.localGet(d);
      c.op(Op.i64_sub);
      c.localSet(d);
      return;
    case op.BPF_DIV:
    case op.BPF_MOD:
      return divmod64(fc, ins, pc);
    case op.BPF_END:
      // ALU64|END (v4 bswap) swaps unconditionally.
      bswap(fc, d, ins.imm);
      return;
  }
  throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
}

/**
 * 64-bit division and modulo with eBPF's total semantics (RFC 9669 4.1 and
 * the kernel's fixups in do_misc_fixups): x/0 = 0, x%0 = x, and signed
 * LLONG_MIN/-1 = LLONG_MIN, LLONG_MIN%-1 = 0, where WebAssembly would trap.
 */
function divmod64(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const d = REG[ins.dst]!;
  const div = op.opOf(ins.code) === op.BPF_DIV;
  const signed = ins.off === 1;
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const wop = div ? (signed ? Op.i64_div_s : Op.i64_div_u) : signed ? Op.i64_rem_s : Op.i64_rem_u;
  if (!x) {
    const v = ins.imm; // sign-extended to 64 bits
    if (v === 0) {
      if (div) {
        c.i64Const32(0);
        c.localSet(d);
      }
      return; // x % 0 leaves x
    }
    if (signed && v === -1) {
      if (div) {
        c.i64Const32(0);
        c.localGet(d);
        c.op(Op.i64_sub);
      } else c.i64Const32(0);
      c.localSet(d);
      return;
    }
    c.localGet(d);
    c.i64Const32(v);
    c.op(wop);
    c.localSet(d);
    return;
  }
  const s = REG[ins.src]!;
  if (fc.opts.aux?.[pc]?.nonZeroDivisor && !(signed && div)) {
    c.localGet(d);
    c.localGet(s);
    c.op(wop);
    c.localSet(d);
    return;
  }
  if (!div) {
    // rem_s does not trap on LLONG_MIN % -1 (it gives 0); only the zero divisor needs a guard.
    c.localGet(s);
    c.op(Op.i64_eqz);
    c.op(Op.i32_eqz);
    c.blockStart(Op.if);
    c.localGet(d);
    c.localGet(s);
    c.op(wop);
    c.localSet(d);
    c.end();
    return;
  }
  if (!signed) {
    c.localGet(s);
    c.op(Op.i64_eqz);
    c.u8(Op.if);
    c.u8(I64);
    c.i64Const32(0);
    c.op(Op.else);
    c.localGet(d);
    c.localGet(s);
    c.op(Op.i64_div_u);
    c.end();
    c.localSet(d);
    return;
  }
  // Signed division: divisors 0 and -1 (src + 1 <u 2) take the slow path.
  c.localGet(s);
  c.i64Const32(1);
  c.op(Op.i64_add);
  c.i64Const32(2);
  c.op(Op.i64_lt_u);
  c.u8(Op.if);
  c.u8(I64);
  c.i64Const32(0); // src == 0 -> 0
  c.i64Const32(0); // src == -1 -> -dst (wrapping)
  c.localGet(d);
  c.op(Op.i64_sub);
  c.localGet(s);
  c.op(Op.i64_eqz);
  c.op(Op.select);
  c.op(Op.else);
  c.localGet(d);
  c.localGet(s);
  c.op(Op.i64_div_s);
  c.end();
  c.localSet(d);
}

export function alu32(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const d = REG[ins.dst]!;
  const simple = SIMPLE_ALU[o];
  if (simple) {
    dst32(fc, ins);
    src32(fc, ins);
    c.op(simple[1]);
    done32(fc, ins);
    return;
  }
  switch (o) {
    case op.BPF_MOV:
      if (x) {
        src32(fc, ins);
        if (ins.off === 8) c.op(Op.i32_extend8_s);
        else if (ins.off === 16) c.op(Op.i32_extend16_s);
        done32(fc, ins);
      } else {
        c.i64ConstNum(ins.imm >>> 0);
        c.localSet(d);
      }
      return;
    case op.BPF_NEG:
      c.i32Const(0);
      dst32(fc, ins);
      c.op(Op.i32_sub);
      done32(fc, ins);
      return;
    case op.BPF_DIV:
    case op.BPF_MOD:
      return divmod32(fc, ins, pc);
    case op.BPF_END: {
      if (!x) {
        // TO_LE on a little-endian machine: truncate to the width (RFC 9669 4.2).
        if (ins.imm === 16 || ins.imm === 32) {
          c.localGet(d);
          c.i64ConstNum(ins.imm === 16 ? 0xffff : 0xffffffff);
          c.op(Op.i64_and);
          c.localSet(d);
        }
        return;
      }
      bswap(fc, d, ins.imm);
      return;
    }
  }
  throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
}

/** 32-bit div/mod: as {@link divmod64} on the low halves; x%0 leaves the low half of x, zero-extended. */
function divmod32(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const div = op.opOf(ins.code) === op.BPF_DIV;
  const signed = ins.off === 1;
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const wop = div ? (signed ? Op.i32_div_s : Op.i32_div_u) : signed ? Op.i32_rem_s : Op.i32_rem_u;
  if (!x) {
    const v = ins.imm;
    if (v === 0) {
      if (div) c.i32Const(0);
      else dst32(fc, ins);
    } else if (signed && v === -1) {
      if (div) {
        c.i32Const(0);
        dst32(fc, ins);
        c.op(Op.i32_sub);
      } else c.i32Const(0);
    } else {
      dst32(fc, ins);
      c.i32Const(v);
      c.op(wop);
    }
    return done32(fc, ins);
  }
  if (fc.opts.aux?.[pc]?.nonZeroDivisor && !(signed && div)) {
    dst32(fc, ins);
    src32(fc, ins);
    c.op(wop);
    return done32(fc, ins);
  }
  if (!div || !signed) {
    src32(fc, ins);
    c.op(Op.i32_eqz);
    c.u8(Op.if);
    c.u8(I32);
    if (div) c.i32Const(0);
    else dst32(fc, ins);
    c.op(Op.else);
    dst32(fc, ins);
    src32(fc, ins);
    c.op(wop);
    c.end();
    return done32(fc, ins);
  }
  src32(fc, ins);
  c.localTee(L_T32);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.i32Const(2);
  c.op(Op.i32_lt_u);
  c.u8(Op.if);
  c.u8(I32);
  c.i32Const(0);
  c.i32Const(0);
  dst32(fc, ins);
  c.op(Op.i32_sub);
  c.localGet(L_T32);
  c.op(Op.i32_eqz);
  c.op(Op.select);
  c.op(Op.else);
  dst32(fc, ins);
  c.localGet(L_T32);
  c.op(Op.i32_div_s);
  c.end();
  done32(fc, ins);
}

/** Reverse the low `width` bits' bytes of local d, zero-extending (WebAssembly has no bswap). */
function bswap(fc: FunctionCompiler, d: number, width: number): void {
  const c = fc.c;
  if (width === 16) {
    c.localGet(d);
    c.op(Op.i32_wrap_i64);
    c.localTee(L_T32);
    c.i32Const(0xff);
    c.op(Op.i32_and);
    c.i32Const(8);
    c.op(Op.i32_shl);
    c.localGet(L_T32);
    c.i32Const(8);
    c.op(Op.i32_shr_u);
    c.i32Const(0xff);
    c.op(Op.i32_and);
    c.op(Op.i32_or);
    c.op(Op.i64_extend_i32_u);
    c.localSet(d);
  } else if (width === 32) {
    c.localGet(d);
    c.op(Op.i32_wrap_i64);
    bswap32Top(fc);
    c.op(Op.i64_extend_i32_u);
    c.localSet(d);
  } else {
    // Swap the two halves' bytes: bswap32(lo) << 32 | bswap32(hi).
    c.localGet(d);
    c.op(Op.i32_wrap_i64);
    bswap32Top(fc);
    c.op(Op.i64_extend_i32_u);
    c.i64Const32(32);
    c.op(Op.i64_shl);
    c.localGet(d);
    c.i64Const32(32);
    c.op(Op.i64_shr_u);
    c.op(Op.i32_wrap_i64);
    bswap32Top(fc);
    c.op(Op.i64_extend_i32_u);
    c.op(Op.i64_or);
    c.localSet(d);
  }
}

/** i32 on the stack -> its bytes reversed: rotr(x & 0x00ff00ff, 8) | rotl(x & 0xff00ff00, 8). */
function bswap32Top(fc: FunctionCompiler): void {
  const c = fc.c;
  c.localTee(L_T32);
  c.i32Const(0x00ff00ff);
  c.op(Op.i32_and);
  c.i32Const(8);
  c.op(Op.i32_rotr);
  c.localGet(L_T32);
  c.i32Const(0xff00ff00 | 0);
  c.op(Op.i32_and);
  c.i32Const(8);
  c.op(Op.i32_rotl);
  c.op(Op.i32_or);
}
