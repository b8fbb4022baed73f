/**
 * Conditional jumps (RFC 9669 4.3): the i32 condition of a basic block's
 * last instruction, for the `if`/`br_if` structure.ts placed there, and
 * may_goto's budget.
 */
import * as op from '../../isa/opcodes.js';
import type { FunctionCompiler } from './function-compiler.js';
import { L_MAYGOTO, REG } from './layout.js';
import { Op } from './wasm.js';

/** i64 comparison for each conditional jump op, and its negation. */
const CMP64: Record<number, [number, number]> = {
  [op.BPF_JEQ]: [Op.i64_eq, Op.i64_ne],
  [op.BPF_JNE]: [Op.i64_ne, Op.i64_eq],
  [op.BPF_JGT]: [Op.i64_gt_u, Op.i64_le_u],
  [op.BPF_JGE]: [Op.i64_ge_u, Op.i64_lt_u],
  [op.BPF_JLT]: [Op.i64_lt_u, Op.i64_ge_u],
  [op.BPF_JLE]: [Op.i64_le_u, Op.i64_gt_u],
  [op.BPF_JSGT]: [Op.i64_gt_s, Op.i64_le_s],
  [op.BPF_JSGE]: [Op.i64_ge_s, Op.i64_lt_s],
  [op.BPF_JSLT]: [Op.i64_lt_s, Op.i64_ge_s],
  [op.BPF_JSLE]: [Op.i64_le_s, Op.i64_gt_s],
};
const CMP32: Record<number, [number, number]> = {
  [op.BPF_JEQ]: [Op.i32_eq, Op.i32_ne],
  [op.BPF_JNE]: [Op.i32_ne, Op.i32_eq],
  [op.BPF_JGT]: [Op.i32_gt_u, Op.i32_le_u],
  [op.BPF_JGE]: [Op.i32_ge_u, Op.i32_lt_u],
  [op.BPF_JLT]: [Op.i32_lt_u, Op.i32_ge_u],
  [op.BPF_JLE]: [Op.i32_le_u, Op.i32_gt_u],
  [op.BPF_JSGT]: [Op.i32_gt_s, Op.i32_le_s],
  [op.BPF_JSGE]: [Op.i32_ge_s, Op.i32_lt_s],
  [op.BPF_JSLT]: [Op.i32_lt_s, Op.i32_ge_s],
  [op.BPF_JSLE]: [Op.i32_le_s, Op.i32_gt_s],
};

/** Push the i32 condition of block b's conditional jump (negated if asked). */
export function cond(fc: FunctionCompiler, b: number, negate: boolean): void {
  const last = fc.cfg.last[b]!;
  const ins = fc.insns[last]!;
  const c = fc.c;
  c.mark(last);
  if (ins.code === op.OP_MAY_GOTO) {
    // Taken once the budget is spent; otherwise it falls through and the
    // budget drops by one: push (budget == 0), then budget -= (budget != 0).
    c.localGet(L_MAYGOTO);
    c.op(Op.i32_eqz);
    if (negate) c.op(Op.i32_eqz);
    c.localGet(L_MAYGOTO);
    c.localGet(L_MAYGOTO);
    c.i32Const(0);
    c.op(Op.i32_ne);
    c.op(Op.i32_sub);
    c.localSet(L_MAYGOTO);
    return;
  }
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const is32 = op.classOf(ins.code) === op.BPF_JMP32;
  c.localGet(REG[ins.dst]!);
  if (is32) c.op(Op.i32_wrap_i64);
  if (x) {
    c.localGet(REG[ins.src]!);
    if (is32) c.op(Op.i32_wrap_i64);
  } else if (is32) c.i32Const(ins.imm);
  else c.i64Const32(ins.imm);
  if (o === op.BPF_JSET) {
    if (is32) {
      c.op(Op.i32_and);
      if (negate) c.op(Op.i32_eqz);
    } else {
      c.op(Op.i64_and);
      c.op(Op.i64_eqz);
      if (!negate) c.op(Op.i32_eqz);
    }
    return;
  }
  const pair = (is32 ? CMP32 : CMP64)[o]!;
  c.op(pair[negate ? 1 : 0]);
}
