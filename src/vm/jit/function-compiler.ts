/**
 * One eBPF function (or subprogram) to one WebAssembly function body: the
 * prologue (its frame below the caller's), the structured statements
 * structure.ts derives from its CFG, outlined regions (outline.ts) as
 * functions of their own, and each basic block's instructions through the
 * emitters (alu.ts, memory-access.ts, calls.ts, condition.ts, metering.ts),
 * which write into {@link FunctionCompiler.c}.
 */
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import { isJump } from '../../isa/control-flow.js';
import { alu32, alu64, lddw } from './alu.js';
import { AddressSums } from './address-sum.js';
import { call } from './calls.js';
import type { FunctionCfg } from './cfg.js';
import type { CompileOptions, OutlinedRegion } from './compile.js';
import { CompileError } from './compile-error.js';
import { cond } from './condition.js';
import { FaultKind, G_SP, L_BASE, L_FP, L_LABEL, L_MAYGOTO, L_R0, L_T32, L_T64, LOCALS, REG, REGION_LOCALS, REGION_PARAMS, REGION_RESULTS } from './layout.js';
import { ldPacket, load, store } from './memory-access.js';
import { bodyCount, charge, chargeBudget, firstPc, insnCount } from './metering.js';
import { DEFAULT_OUTLINE, outline, REGION_ESCAPE, REGION_FALL, REGION_RETURN, type Region } from './outline.js';
import { type RuntimeImports, Service } from './runtime-imports.js';
import { S_BLOCK, S_BR, S_BR_IF, S_BR_TABLE, S_CODE, S_END, S_EXIT, S_IF, S_LOOP, S_SET_LABEL, STRIDE, stmtEnd, structure, type Stmts } from './structure.js';
import { FuncBody, I64, ModuleBuilder, Op, type ValType } from './wasm.js';

/**
 * How many never-taken `loop`s a function with loops runs inside. V8's
 * TurboFan (Node 20, compiler/loop-unrolling.h) unrolls a loop of `size`
 * nodes at nesting depth d min((d + 1) * 50 / size, 5) times, and not at all
 * past (d + 1) * 50 nodes: an outermost loop (d = 0) keeps a stack check and
 * a branch per iteration. One wrapper (d = 1) made checksum and strcmp_full
 * 20-25% faster; four (d = 4: a small loop's 5, the most V8 unrolls) another
 * 4-7% on strcmp_full, strcmp and checksum, one stack check per five
 * iterations instead of per two (A/B in bench/jit, BENCHMARKS.md). More
 * changed nothing measurable.
 */
export const LOOP_WRAPPERS = 4;

/** The function's own statements (its outlined regions' not) hold a loop (at any depth). */
function hasLoop(s: Stmts, regions: readonly Region[]): boolean {
  for (let p = 0; p < s.n; p += STRIDE) {
    if (s.w[p] !== S_LOOP) continue;
    if (!regions.some((r) => r.from <= p && p < r.to)) return true;
  }
  return false;
}

export class FunctionCompiler {
  /** the body being written: the function's, or an outlined region's while that one is written */
  c: FuncBody;
  /** the function's structured statements (structure.ts) */
  stmtList!: Stmts;
  /** the function's outlined regions and their function indices */
  regions: Region[] = [];
  private regionIndex: number[] = [];
  /** the region being written, if any */
  private region: Region | undefined;
  /** the function's instruction slots */
  private readonly slots: number;
  /** the function holds a may_goto (scanned over its own blocks: over the whole program, a program of many functions would cost slots x functions) */
  private readonly mayGoto: boolean;
  /** per register: the 32-bit constant an lddw put there in the current block */
  readonly known: Array<number | undefined> = new Array(11).fill(undefined);
  /** per register: the registers and constant it is the sum of in the current block (address-sum.ts) */
  readonly sums = new AddressSums();
  /** the function went through the dispatch loop */
  private dispatch = false;
  /** scratch for stmts(): the kinds of the open constructs */
  private readonly openKinds: number[] = [];
  constructor(
    readonly insns: readonly Insn[],
    readonly cfg: FunctionCfg,
    readonly opts: CompileOptions,
    readonly runtime: RuntimeImports,
    readonly helperFunc: ReadonlyMap<number, number>,
    readonly funcIndex: ReadonlyMap<number, number>,
    readonly mayTail: ReadonlySet<number>,
    readonly probeFunc: number | undefined,
    private readonly m: ModuleBuilder,
  ) {
    let slots = 0;
    let mayGoto = false;
    for (let b = 0; b < cfg.n; b++) {
      const start = cfg.start[b]!;
      const end = cfg.end[b]!;
      slots += end - start;
      for (let i = start; i < end && !mayGoto; i++) mayGoto = insns[i]!.code === op.OP_MAY_GOTO;
    }
    this.slots = slots;
    this.mayGoto = mayGoto;
    // An outlined function keeps little more than its skeleton: size the buffer for one region then.
    const outlineAbove = opts.outline?.above ?? DEFAULT_OUTLINE.above;
    this.c = new FuncBody(LOCALS, 64 + (slots > outlineAbove ? 256 : slots) * 12, opts.marks === true);
  }

  compile(): { body: FuncBody; dispatch: boolean; regions: OutlinedRegion[] } {
    const c = this.c;
    const { stackSize } = this.opts;
    // Prologue: this frame is [sp - stackSize, sp); r10 points at its top.
    c.globalGet(G_SP);
    c.localTee(L_FP);
    c.op(Op.i64_extend_i32_u);
    c.localSet(REG[10]!);
    // Callers check the depth (at the call site, so that the fault names it).
    c.localGet(L_FP);
    c.i32Const(stackSize);
    c.op(Op.i32_sub);
    c.localTee(L_BASE);
    c.globalSet(G_SP);
    // may_goto (Linux 6.9): the kernel initialises its counter to
    // BPF_MAX_LOOPS in the prologue of every function that uses it.
    if (this.mayGoto) {
      c.i32Const(op.BPF_MAX_LOOPS);
      c.localSet(L_MAYGOTO);
    }
    const { body, dispatch } = structure(this.cfg);
    this.stmtList = body;
    this.dispatch = dispatch;
    if (this.opts.fuel) {
      let n = 0;
      for (let b = 0; b < this.cfg.n; b++) n += insnCount(this, this.cfg.start[b]!, this.cfg.end[b]!);
      charge(this, n, this.cfg.entry);
    }
    // A dispatch loop's blocks all sit in one br_table's reach: it stays whole.
    if (!dispatch) {
      const { start, end } = this.cfg;
      this.regions = outline(body, this.slots, (b) => end[b]! - start[b]!, this.opts.outline);
      const t = this.m.type(new Array<ValType>(REGION_PARAMS).fill(I64), REGION_RESULTS);
      this.regionIndex = this.regions.map(() => this.m.declareFunc(t));
    }
    // A function with loops runs inside LOOP_WRAPPERS more `loop`s, never branched back to.
    // They cost one stack check each per call and change nothing else, as no branch targets them.
    const wrap = !dispatch && hasLoop(body, this.regions) ? LOOP_WRAPPERS : 0;
    for (let k = 0; k < wrap; k++) c.blockStart(Op.loop);
    this.stmts(0, body.n);
    for (let k = 0; k < wrap; k++) c.end();
    // Every path ends in a return or branch; the validator needs to know the end is unreachable.
    c.op(Op.unreachable);
    c.end();
    const regions = this.regions.map((r, k): OutlinedRegion => {
      const b = this.regionBody(r);
      const index = this.regionIndex[k]!;
      this.m.setBody(index - this.m.importedFuncCount, b);
      return { index, name: `f${this.cfg.entry}.r${k}`, marks: b.marks, escapes: r.escapes.length };
    });
    return { body: c, dispatch, regions };
  }

  /**
   * Region r's function: r's statements inside one block per escape label
   * (the innermost escape innermost), each block's end returning its status.
   */
  private regionBody(r: Region): FuncBody {
    const outer = this.c;
    const c = (this.c = new FuncBody(REGION_LOCALS, 64 + r.size * 12, this.opts.marks === true));
    this.region = r;
    // The frame is the caller's: fp from r10, the may_goto budget from its i64 carrier.
    c.localGet(REG[10]!);
    c.op(Op.i32_wrap_i64);
    c.localTee(L_FP);
    c.i32Const(this.opts.stackSize);
    c.op(Op.i32_sub);
    c.localSet(L_BASE);
    c.localGet(L_T64);
    c.op(Op.i32_wrap_i64);
    c.localSet(L_MAYGOTO);
    for (let j = 0; j < r.escapes.length; j++) c.blockStart(Op.block);
    this.stmts(r.from, r.to);
    this.regionReturn(REGION_FALL);
    for (let j = 0; j < r.escapes.length; j++) {
      c.end();
      this.regionReturn(REGION_ESCAPE + j);
    }
    c.end();
    this.region = undefined;
    this.c = outer;
    return c;
  }

  /** Return from a region's function: locals 0..9, the may_goto budget, `status`. */
  private regionReturn(status: number): void {
    const c = this.c;
    for (let l = 0; l < 10; l++) c.localGet(l);
    c.localGet(L_MAYGOTO);
    c.i32Const(status);
    c.op(Op.return);
  }

  /** Call region k from the function's statement list at nesting `level`, then do what its status says. */
  private callRegion(k: number, level: number): void {
    const c = this.c;
    const r = this.regions[k]!;
    for (let l = 0; l <= 10; l++) c.localGet(l);
    c.localGet(L_MAYGOTO);
    c.op(Op.i64_extend_i32_u);
    c.call(this.regionIndex[k]!);
    c.localSet(L_T32);
    c.localSet(L_MAYGOTO);
    for (let l = 9; l >= 0; l--) c.localSet(l);
    c.localGet(L_T32);
    c.i32Const(REGION_RETURN);
    c.op(Op.i32_eq);
    c.blockStart(Op.if);
    this.ret(L_R0);
    c.end();
    r.escapes.forEach((p, j) => {
      c.localGet(L_T32);
      c.i32Const(REGION_ESCAPE + j);
      c.op(Op.i32_eq);
      c.brIf(level - 1 - p);
    });
  }

  /**
   * The depth to emit for a branch `depth` labels out from nesting `level`
   * of the list being written: unchanged, except in a region for a label
   * outside it, which is now the escape block for that label.
   */
  private brDepth(depth: number, level: number): number {
    const r = this.region;
    if (!r) return depth;
    const p = r.depth + level - 1 - depth;
    return p >= r.depth ? depth : level + r.escapes.indexOf(p);
  }

  /**
   * Emit the statements in [from, to) (word positions of the stream): the
   * function's (then each region's range is a call to it) or one region's.
   */
  private stmts(from: number, to: number): void {
    const c = this.c;
    const w = this.stmtList.w;
    /** per open construct of this range: its kind (a trailing `br 0` in a block or if is a plain fall-through) */
    const kinds = this.openKinds;
    let level = 0;
    // The function's own statements call its regions where their ranges start, in stream order.
    const order = this.region ? [] : this.regions.map((_, k) => k).sort((a, b) => this.regions[a]!.from - this.regions[b]!.from);
    let next = 0;
    let nextFrom = order.length ? this.regions[order[0]!]!.from : -1;
    for (let p = from; p < to; p += STRIDE) {
      if (p === nextFrom) {
        const k = order[next++]!;
        this.callRegion(k, level);
        p = this.regions[k]!.to - STRIDE;
        nextFrom = next < order.length ? this.regions[order[next]!]!.from : -1;
        continue;
      }
      const kind = w[p]!;
      switch (kind) {
        case S_BLOCK:
        case S_LOOP:
          c.blockStart(kind === S_BLOCK ? Op.block : Op.loop);
          // Every iteration passes its loop's head: charge the body there (a dispatch loop charges per block).
          if (kind === S_LOOP && this.opts.fuel && !this.dispatch) {
            const end = stmtEnd(this.stmtList, p) - STRIDE;
            charge(this, bodyCount(this, p + STRIDE, end), firstPc(this, p + STRIDE, end));
          }
          kinds[level++] = kind;
          break;
        case S_IF:
          cond(this, w[p + 1]!, w[p + 2]! !== 0);
          c.blockStart(Op.if);
          kinds[level++] = kind;
          break;
        case S_END:
          c.end();
          level--;
          break;
        case S_CODE: {
          const b = w[p + 1]!;
          if (this.opts.fuel && this.dispatch) {
            const start = this.cfg.start[b]!;
            charge(this, insnCount(this, start, this.cfg.end[b]!), start);
          }
          this.blockCode(b);
          break;
        }
        case S_BR_IF:
          cond(this, w[p + 1]!, w[p + 2]! !== 0);
          c.brIf(this.brDepth(w[p + 3]!, level));
          break;
        case S_BR: {
          const depth = w[p + 3]!;
          const last = p + STRIDE < to && w[p + STRIDE] === S_END && level > 0 && kinds[level - 1] !== S_LOOP;
          if (!(depth === 0 && last)) c.br(this.brDepth(depth, level));
          break;
        }
        case S_EXIT:
          c.mark(this.cfg.last[w[p + 1]!]!);
          this.ret(L_R0);
          break;
        case S_SET_LABEL:
          c.i32Const(w[p + 3]!);
          c.localSet(L_LABEL);
          break;
        case S_BR_TABLE: {
          // br_table 0, 1, .., n - 1 with n - 1 as the default
          const n = w[p + 3]!;
          c.localGet(L_LABEL);
          c.op(Op.br_table);
          c.uleb(n);
          for (let d = 0; d < n; d++) c.uleb(d);
          c.uleb(n - 1);
          break;
        }
      }
    }
  }

  /** Restore the caller's sp and return the i64 in local `l` (from a region: return, and the caller returns). */
  ret(l: number): void {
    const c = this.c;
    if (this.region) {
      if (l !== L_R0) {
        c.localGet(l);
        c.localSet(L_R0);
      }
      this.regionReturn(REGION_RETURN);
      return;
    }
    c.localGet(L_FP);
    c.globalSet(G_SP);
    c.localGet(l);
    c.op(Op.return);
  }

  fault(kind: FaultKind, pc: number, arg = 0): void {
    const c = this.c;
    c.i32Const(kind);
    c.i32Const(pc);
    c.i64Const32(arg);
    c.call(this.runtime.func(Service.Fault, pc));
    c.op(Op.unreachable);
  }

  private blockCode(b: number): void {
    const start = this.cfg.start[b]!;
    const end = this.cfg.end[b]!;
    const last = this.cfg.last[b]!;
    const insns = this.insns;
    const c = this.c;
    if (this.opts.budget) chargeBudget(this, insnCount(this, start, end), start);
    const known = this.known;
    known.fill(undefined);
    this.sums.reset();
    for (let i = start; i < end; ) {
      const ins = insns[i]!;
      if (i === last && (isJump(ins) || ins.code === op.OP_EXIT)) break;
      c.mark(i);
      this.insn(ins, i);
      this.track(ins, i);
      this.sums.track(ins);
      i += ins.code === op.OP_LDDW ? 2 : 1;
    }
  }

  /** Update {@link known} after `ins`: lddw defines a constant, anything that writes a register forgets it. */
  private track(ins: Insn, pc: number): void {
    const known = this.known;
    const cls = op.classOf(ins.code);
    if (ins.code === op.OP_LDDW) {
      const hi = this.insns[pc + 1]!.imm;
      known[ins.dst] = hi === 0 && ins.src !== op.BPF_PSEUDO_FUNC ? ins.imm >>> 0 : undefined;
    } else if (cls === op.BPF_ALU || cls === op.BPF_ALU64 || cls === op.BPF_LDX || cls === op.BPF_LD) {
      known[ins.dst] = undefined;
      if (cls === op.BPF_LD) known[0] = undefined; // LD_ABS/IND write r0
    } else if (cls === op.BPF_STX && op.modeOf(ins.code) === op.BPF_ATOMIC) {
      known[ins.src] = undefined;
      known[ins.dst] = undefined;
      known[0] = undefined;
    } else if (cls === op.BPF_JMP) {
      for (let r = 0; r <= 5; r++) known[r] = undefined; // calls clobber r0..r5
    }
  }

  /** One instruction that is not its block's jump or exit (those are the structure's). */
  private insn(ins: Insn, pc: number): void {
    switch (op.classOf(ins.code)) {
      case op.BPF_ALU64:
        return alu64(this, ins, pc);
      case op.BPF_ALU:
        return alu32(this, ins, pc);
      case op.BPF_LDX:
        return load(this, ins, pc);
      case op.BPF_ST:
      case op.BPF_STX:
        return store(this, ins, pc);
      case op.BPF_LD:
        if (ins.code === op.OP_LDDW) return lddw(this, ins, pc);
        return ldPacket(this, ins, pc);
      case op.BPF_JMP:
        return call(this, ins, pc);
    }
    throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
  }
}
