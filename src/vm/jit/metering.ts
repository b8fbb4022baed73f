/**
 * Instruction metering: the checked variant's budget (charged per basic
 * block, a fault when spent) and the deadline variant's fuel (charged at
 * function entries and loop heads, e.refuel when spent).
 */
import * as op from '../../isa/opcodes.js';
import type { FunctionCompiler } from './function-compiler.js';
import { FaultKind, fuelGlobal, G_BUDGET, L_T32, L_T64 } from './layout.js';
import { S_BR_IF, S_CODE, S_EXIT, S_IF, STRIDE } from './structure.js';
import { Service } from './runtime-imports.js';
import { Op } from './wasm.js';

/** Instruction slots [start, end) as instructions (an lddw is one). */
export function insnCount(fc: FunctionCompiler, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += fc.insns[i]!.code === op.OP_LDDW ? 2 : 1) n++;
  return n;
}

/**
 * The instructions of every basic block in the statements [from, to) of the
 * function's stream, nested loops and outlined regions included (a region's
 * statements are a range of the same stream).
 */
export function bodyCount(fc: FunctionCompiler, from: number, to: number): number {
  const w = fc.stmtList.w;
  let n = 0;
  for (let p = from; p < to; p += STRIDE) if (w[p] === S_CODE) n += insnCount(fc, fc.cfg.start[w[p + 1]!]!, fc.cfg.end[w[p + 1]!]!);
  return Math.max(n, 1);
}

/** The first instruction the statements [from, to) run (for the deadline error's pc). */
export function firstPc(fc: FunctionCompiler, from: number, to: number): number {
  const w = fc.stmtList.w;
  for (let p = from; p < to; p += STRIDE) {
    const k = w[p]!;
    if (k === S_CODE || k === S_IF || k === S_BR_IF || k === S_EXIT) return fc.cfg.start[w[p + 1]!]!;
  }
  return fc.cfg.entry;
}

/** fuel -= n; if (fuel < 0) fuel = e.refuel(pc, fuel), which throws when the deadline is reached. */
export function charge(fc: FunctionCompiler, n: number, pc: number): void {
  const c = fc.c;
  const g = fuelGlobal(fc.opts);
  c.globalGet(g);
  c.i32Const(n);
  c.op(Op.i32_sub);
  c.localTee(L_T32);
  c.globalSet(g);
  c.localGet(L_T32);
  c.i32Const(0);
  c.op(Op.i32_lt_s);
  c.blockStart(Op.if);
  c.i32Const(pc);
  c.localGet(L_T32);
  c.call(fc.runtime.func(Service.Refuel, pc));
  c.globalSet(g);
  c.end();
}

/** budget -= count; if (budget < 0) fault: charged on entry to each basic block (the checked variant). */
export function chargeBudget(fc: FunctionCompiler, count: number, pc: number): void {
  const c = fc.c;
  c.globalGet(G_BUDGET);
  c.i64Const32(count);
  c.op(Op.i64_sub);
  c.localTee(L_T64);
  c.globalSet(G_BUDGET);
  c.localGet(L_T64);
  c.i64Const32(0);
  c.op(Op.i64_lt_s);
  c.blockStart(Op.if);
  fc.fault(FaultKind.Budget, pc);
  c.end();
}
