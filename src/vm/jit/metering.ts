/**
 * Instruction metering: the checked variant's budget (charged per basic
 * block, a fault when spent) and the deadline variant's fuel (charged at
 * function entries and loop heads, e.refuel when spent).
 */
import * as op from '../../isa/opcodes.js';
import type { FunctionCompiler } from './function-compiler.js';
import { FaultKind, fuelGlobal, G_BUDGET, L_T32, L_T64 } from './layout.js';
import type { Stmt } from './structure.js';
import { Service } from './runtime-imports.js';
import { Op } from './wasm.js';

/** Instruction slots [start, end) as instructions (an lddw is one). */
export function insnCount(fc: FunctionCompiler, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += fc.insns[i]!.code === op.OP_LDDW ? 2 : 1) n++;
  return n;
}

/** Visit every basic block of a statement list, nested constructs and outlined regions included (once each). */
function bodyWalk(fc: FunctionCompiler, list: readonly Stmt[], visit: (start: number, end: number) => void): void {
  const todo: Array<readonly Stmt[]> = [list];
  while (todo.length) {
    for (const s of todo.pop()!) {
      if (s.k === 'code') visit(fc.cfg.start[s.b]!, fc.cfg.end[s.b]!);
      else if (s.k === 'block' || s.k === 'loop') todo.push(s.body);
      else if (s.k === 'if') todo.push(s.then);
      else if (s.k === 'region') todo.push(fc.regions[s.r]!.body);
    }
  }
}

/** The instructions of every basic block in a statement list, nested loops included (once each). */
export function bodyCount(fc: FunctionCompiler, list: readonly Stmt[]): number {
  let n = 0;
  bodyWalk(fc, list, (start, end) => (n += insnCount(fc, start, end)));
  return Math.max(n, 1);
}

/** The first instruction a statement list runs (for the deadline error's pc). */
export function firstPc(fc: FunctionCompiler, list: readonly Stmt[]): number {
  for (const s of list) {
    if (s.k === 'code' || s.k === 'if' || s.k === 'brIf' || s.k === 'exit') return fc.cfg.start[s.b]!;
    if (s.k === 'block' || s.k === 'loop') return firstPc(fc, s.body);
    if (s.k === 'region') return firstPc(fc, fc.regions[s.r]!.body);
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
