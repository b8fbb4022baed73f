/**
 * Calls: bpf-to-bpf calls (one WebAssembly call, the kernel's calling
 * convention on the register locals), helpers (an import each, inlined
 * where an inliner takes the site, a 32-bit import where the arguments fit),
 * callx, tail calls (unwound to engine.ts's trampoline) and kfuncs.
 */
import { HELPER_TAIL_CALL } from '../../uapi/helper-ids.js';
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import { calleeStart, isPseudoCall } from '../../isa/control-flow.js';
import type { CompileOptions, InlineSite } from './compile.js';
import { CompileError } from './compile-error.js';
import type { FunctionCfg } from './cfg.js';
import type { FunctionCompiler } from './function-compiler.js';
import { FaultKind, G_CPU, G_SP, G_TAIL, L_R0, L_T32, L_T64, REG } from './layout.js';
import { Service } from './runtime-imports.js';
import { Op } from './wasm.js';

/** helperFunc key of helper id's h.<id>_32 import (helper ids are >= 0) */
export const fast32Key = (id: number): number => -1 - id;

/**
 * The helper ids the program names, in import order: those it calls, then
 * the inlinable ones (imported too, in case the inliner declines at a site).
 */
export function programHelpers(insns: readonly Insn[], opts: CompileOptions): number[] {
  const helperIds: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    if (ins.code === op.OP_LDDW) {
      i++;
      continue;
    }
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER && ins.imm !== HELPER_TAIL_CALL) {
      if (opts.inliners?.has(ins.imm)) continue; // may still decline; imported below if so
      if (!seen.has(ins.imm)) {
        seen.add(ins.imm);
        helperIds.push(ins.imm);
      }
    }
  }
  if (opts.inliners) {
    for (let i = 0; i < insns.length; i++) {
      const ins = insns[i]!;
      if (ins.code === op.OP_LDDW) i++;
      else if (ins.code === op.OP_CALL && ins.src === 0 && opts.inliners.has(ins.imm) && !seen.has(ins.imm)) {
        seen.add(ins.imm);
        helperIds.push(ins.imm);
      }
    }
  }
  return helperIds;
}

/**
 * Which functions may take a tail call (directly, through callx, or in a
 * callee): calls into them are followed by an unwind check.
 */
export function mayTailCall(insns: readonly Insn[], cfgs: readonly FunctionCfg[]): Set<number> {
  const mayTail = new Set<number>();
  const calls = new Map<number, number[]>();
  for (const cfg of cfgs) {
    const callees: number[] = [];
    for (let b = 0; b < cfg.n; b++) {
      for (let i = cfg.start[b]!, end = cfg.end[b]!; i < end; i++) {
        const ins = insns[i]!;
        if (ins.code === op.OP_LDDW) i++;
        else if (ins.code === op.OP_CALLX || (ins.code === op.OP_CALL && ins.src === 0 && ins.imm === HELPER_TAIL_CALL))
          mayTail.add(cfg.entry);
        else if (isPseudoCall(ins)) callees.push(calleeStart(ins, i));
      }
    }
    calls.set(cfg.entry, callees);
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (const [f, callees] of calls)
      if (!mayTail.has(f) && callees.some((c) => mayTail.has(c))) {
        mayTail.add(f);
        changed = true;
      }
  }
  return mayTail;
}

/** BPF_JMP|BPF_CALL and callx: a bpf-to-bpf call, a helper (or its inlined code), a tail call or a kfunc. */
export function call(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  if (isPseudoCall(ins)) {
    const target = calleeStart(ins, pc);
    // A ninth frame would start below the stack region (kernel: MAX_CALL_FRAMES).
    c.globalGet(G_SP);
    c.i32Const(fc.opts.stackBase + fc.opts.stackSize);
    c.op(Op.i32_lt_u);
    c.blockStart(Op.if);
    fc.fault(FaultKind.CallDepth, pc);
    c.end();
    for (let r = 1; r <= 5; r++) c.localGet(REG[r]!);
    c.call(fc.funcIndex.get(target)!);
    c.localSet(L_R0);
    if (fc.mayTail.has(target)) unwindIfTail(fc);
    return;
  }
  if (ins.code === op.OP_CALLX) {
    // callx: the helper id is in the register named by dst (as the conformance suite encodes it).
    c.i32Const(pc);
    c.localGet(REG[ins.dst]!);
    for (let r = 1; r <= 5; r++) c.localGet(REG[r]!);
    c.call(fc.runtime.func(Service.Callx, pc));
    c.localSet(L_R0);
    unwindIfTail(fc);
    return;
  }
  if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER) {
    const id = ins.imm;
    if (id === HELPER_TAIL_CALL) {
      // bpf_tail_call(ctx, prog_array, index): when taken, this program is
      // finished; unwind every wasm frame and let the trampoline in jit.ts
      // start the target with the same ctx. When not taken, execution
      // continues and r0 is left as it was (the kernel's JITs do not set it).
      c.i32Const(pc);
      c.localGet(REG[1]!);
      c.localGet(REG[2]!);
      c.localGet(REG[3]!);
      c.call(fc.runtime.func(Service.Tail, pc));
      c.blockStart(Op.if);
      c.i32Const(1);
      c.globalSet(G_TAIL);
      fc.ret(L_R0);
      c.end();
      return;
    }
    const inl = fc.opts.inliners?.get(id);
    if (inl) {
      const site: InlineSite = {
        body: c,
        pc,
        helperId: id,
        aux: fc.opts.aux?.[pc],
        reg: (r) => REG[r]!,
        cpuGlobal: G_CPU,
        constReg: (r) => fc.known[r],
        tmp32: L_T32,
        tmp64: L_T64,
      };
      if (inl(site)) return;
    }
    const f = fc.helperFunc.get(id);
    if (f === undefined) throw new CompileError(pc, `helper ${id} not imported`);
    const f32 = fc.helperFunc.get(fast32Key(id));
    const fast = f32 !== undefined ? fc.opts.fast32?.(id) : undefined;
    if (f32 !== undefined && fast) {
      // (r1 | ... | rN) >> 32 == 0: every argument fits in 32 bits, take the i32 import.
      if (fast.arity === 0) c.i32Const(1);
      else {
        c.localGet(REG[1]!);
        for (let r = 2; r <= fast.arity; r++) {
          c.localGet(REG[r]!);
          c.op(Op.i64_or);
        }
        c.i64Const32(32);
        c.op(Op.i64_shr_u);
        c.op(Op.i64_eqz);
      }
      c.u8(Op.if);
      c.u8(0x7e); // (result i64)
      c.i32Const(pc);
      for (let r = 1; r <= fast.arity; r++) {
        c.localGet(REG[r]!);
        c.op(Op.i32_wrap_i64);
      }
      c.call(f32);
      c.op(fast.signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
      c.op(Op.else);
    }
    c.i32Const(pc);
    for (let r = 1; r <= 5; r++) c.localGet(REG[r]!);
    c.call(f);
    if (f32 !== undefined && fast) c.op(Op.end);
    c.localSet(L_R0);
    return;
  }
  if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL) {
    fc.fault(FaultKind.Unsupported, pc, 2);
    return;
  }
  throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
}

/** After a call that may have taken a tail call: keep unwinding to the trampoline. */
function unwindIfTail(fc: FunctionCompiler): void {
  const c = fc.c;
  c.globalGet(G_TAIL);
  c.blockStart(Op.if);
  fc.ret(L_R0);
  c.end();
}
