/**
 * eBPF to WebAssembly: one module per program, one function per eBPF
 * function (subprogram), written in one pass per function straight into
 * bytes.
 *
 * Module layout (the JS side in engine.ts supplies the imports):
 *   imports  e.fault(kind i32, pc i32, arg i64)           raise a typed fault (never returns)
 *            e.tail(pc i32, ctx i64, map i64, idx i64) -> i32   1 = tail call taken
 *            e.callx(pc i32, id i64, r1..r5 i64) -> i64   call a helper by run-time id
 *            e.ldpkt(pc i32, r6 i64, off i32, size i32) -> i64   legacy packet load, -1 = out of bounds
 *            h.<id>(pc i32, r1..r5 i64) -> i64            one per helper the program calls
 *            e.mem                                        the runtime's address space
 *   globals  sp (i32): lowest byte of the innermost frame; a call takes the next 512 bytes below
 *            tail (i32): set while a taken tail call unwinds the wasm stack
 *            cpu (i32): the CPU of this run (inlined bpf_get_smp_processor_id)
 *            budget (i64): instructions left (only in the checked variant)
 *            fuel (i32): instructions left in this deadline slice (only in the deadline variant)
 *   (deadline variant) e.refuel(pc i32, fuel i32) -> i32      the slice is spent: throw RunDeadlineExceeded or give more
 *   funcs    f<slot>(r1..r5 i64) -> i64, exported, one per function entry slot
 *            run(r1..r5 i64, sp i32, cpu i32 [, fuel i32]) -> i64   sets the globals, calls f0
 *            runctx(ctx i32, sp i32, cpu i32 [, fuel i32]) -> i32     the same with r1 = ctx, r2..r5 = 0, r0's low half
 *            repeat(ctx i32, sp i32, cpu i32, n i32) -> i32   runctx n times in a wasm loop (plain variant, no tail calls)
 *
 * Registers are locals: r1..r5 are the parameters (a bpf-to-bpf call passes
 * them exactly like the kernel's calling convention), r0 and r6..r10 plain
 * locals. Each function owns its own r6..r9, so the caller's callee-saved
 * registers survive a call for free.
 *
 * Two variants: the plain one for verified programs (no checks beyond
 * WebAssembly's own bounds), and the checked one for unverified programs or
 * runs with a budget (instruction budget per basic block, every memory
 * access checked against the space with the faulting pc).
 */
import { HELPER_TAIL_CALL } from '../../uapi/helper-ids.js';
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import type { InsnAux } from '../../verifier/insn-aux.js';
import { buildFunctionCfg, blockLeaders, type FunctionCfg } from './cfg.js';
import { calleeStart, functionStarts, isJump, isPseudoCall } from '../../isa/control-flow.js';
import { structure, type Stmt } from './structure.js';
import { DEFAULT_OUTLINE, outline, REGION_ESCAPE, REGION_FALL, REGION_RETURN, type OutlineLimits, type Region } from './outline.js';
import { Atomic, FuncBody, I32, I64, ModuleBuilder, Op, type ValType } from './wasm.js';
import { NULL_GUARD } from '../../memory/address-space.js';
import { declareProbeFunc, probeAddress, probeFuncBody, probeLoadTail } from './probe-mem.js';
import { TsbpfError } from '../../errors.js';
import { AddressSums } from './address-sum.js';

/** Reasons the generated code calls e.fault. */
export const enum FaultKind {
  CallDepth = 1,
  Budget = 2,
  UnknownHelper = 3,
  Unsupported = 4,
  /** checked variant: an access outside the space or into the NULL guard page (arg = address) */
  Memory = 5,
}


/**
 * What a helper inliner sees: it may emit code that computes r0 from r1..r5
 * (and the globals) instead of an import call. Returns false to decline.
 * This is the hook for the hot helpers (array map lookups proven by the
 * verifier through InsnAux.mapAddr, ktime, processor id).
 */
export interface InlineSite {
  readonly body: FuncBody;
  readonly pc: number;
  readonly helperId: number;
  readonly aux: InsnAux | undefined;
  /** local index of eBPF register r */
  reg(r: number): number;
  /** global index of the per-run CPU number (i32) */
  readonly cpuGlobal: number;
  /**
   * The value register r holds here if it was loaded by an lddw earlier in
   * the same basic block and not written since (how a map pointer reaches
   * a helper call in clang's code), else undefined.
   */
  constReg(r: number): number | undefined;
  /** scratch locals the inlined code may clobber */
  readonly tmp32: number;
  readonly tmp64: number;
}
export type HelperInliner = (site: InlineSite) => boolean;

export interface CompileOptions {
  /** the memory is shared: atomics become WebAssembly atomic instructions */
  shared: boolean;
  /**
   * The checked variant, for unverified programs: charge instructions
   * against the budget global at every basic block, and check every memory
   * access against the space (with the faulting instruction's pc).
   */
  budget: boolean;
  /**
   * The deadline variant (RunArgs.deadline): charge the fuel global at every
   * function entry (the function's instruction count) and loop head (the
   * loop body's), or per basic block in a dispatch loop, and call e.refuel
   * when it runs out. Straight-line code is bounded by the function's
   * length, so this bounds every run at a few instructions per iteration.
   */
  fuel?: boolean;
  /** bytes per stack frame */
  stackSize: number;
  /** lowest address of the stack region (8 frames); deeper calls fault */
  stackBase: number;
  memMinPages: number;
  memMaxPages: number | undefined;
  aux?: ReadonlyArray<InsnAux | undefined>;
  inliners?: ReadonlyMap<number, HelperInliner>;
  /**
   * Helpers with a 32-bit fast path (HelperDef.fn32): for those, besides
   * h.<id>, import h.<id>_32 (pc, r1..rN: i32) -> i32 and call it when the
   * N arguments the prototype declares fit in 32 bits (always, for a
   * verified program's pointers and sizes), sparing the BigInt conversions
   * of the i64 helper ABI; its result is sign-extended when `signed`.
   */
  fast32?: (id: number) => Fast32 | undefined;
  /** record CompiledFunction.marks (which eBPF slot each piece of code comes from) for the text printer */
  marks?: boolean;
  /** address of the space's probe-mem table (memory/probe-mem.ts); needed when `aux` marks probeMem loads */
  probeTable?: number;
  /** split functions larger than this into regions of their own (outline.ts; default DEFAULT_OUTLINE) */
  outline?: OutlineLimits;
}

/** A helper's 32-bit import: how many arguments, and whether its result is signed. */
export interface Fast32 {
  arity: number;
  signed: boolean;
}

/** helperFunc key of helper id's h.<id>_32 import (helper ids are >= 0) */
const fast32Key = (id: number): number => -1 - id;

export interface CompiledFunction {
  entry: number;
  name: string;
  /** function index in the module */
  index: number;
  /** the CFG was irreducible and went through the dispatch loop */
  dispatch: boolean;
  blocks: number;
  /** pairs (byte offset in the body, eBPF slot), flattened; empty unless CompileOptions.marks */
  marks: readonly number[];
  /** the function's regions outlined into functions of their own (outline.ts), in order */
  regions: OutlinedRegion[];
}

/** One outlined region of a function: its own WebAssembly function, not exported. */
export interface OutlinedRegion {
  /** function index in the module */
  index: number;
  /** `f<entry>.r<k>` */
  name: string;
  marks: readonly number[];
  /** labels outside the region its branches may leave to (a merge block around it, a loop it is in) */
  escapes: number;
}

export interface CompiledModule {
  bytes: Uint8Array;
  functions: CompiledFunction[];
  /** helper ids imported as h.<id>, in import order */
  helperIds: number[];
  /** helper ids whose h.<id>_32 import is used too (CompileOptions.fast32) */
  fast32Ids: number[];
  /** the module exports `repeat` (the test-run loop in WebAssembly) */
  hasRepeat: boolean;
}

// Import and global indices (fixed layout).
const F_FAULT = 0;
const F_TAIL = 1;
const F_CALLX = 2;
const F_LDPKT = 3;
/** imported only by the deadline variant */
const F_REFUEL = 4;
const G_SP = 0;
const G_TAIL = 1;
const G_CPU = 2;
const G_BUDGET = 3;
/** the fuel global follows budget when both are there */
const fuelGlobal = (opts: CompileOptions): number => (opts.budget ? G_BUDGET + 1 : G_BUDGET);

// Local layout: r1..r5 are parameters 0..4.
const L_R0 = 5;
const L_T64 = 11;
const L_T64B = 12;
const L_ADDR = 13;
const L_FP = 14;
const L_LABEL = 15;
const L_T32 = 16;
/** may_goto's budget, per function invocation (the kernel's hidden stack slot) */
const L_MAYGOTO = 17;
const LOCALS: ReadonlyArray<[number, ValType]> = [
  [8, I64], // r0, r6..r10, t64, t64b
  [5, I32], // addr, fp, label, t32, may_goto budget
];
/**
 * An outlined region's function keeps the same local layout, so its code is
 * emitted exactly as inline code: its parameters are locals 0..11 (r1..r5,
 * r0, r6..r9, r10, and the may_goto budget widened into t64's slot); it
 * returns locals 0..9, the may_goto budget and a status (outline.ts).
 */
const REGION_PARAMS = 12;
const REGION_LOCALS: ReadonlyArray<[number, ValType]> = [
  [1, I64], // t64b
  [5, I32], // addr, fp, label, t32, may_goto budget
];
const REGION_RESULTS: readonly ValType[] = [...new Array<ValType>(10).fill(I64), I32, I32];
/** eBPF register -> local index */
const REG = [L_R0, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10];

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
const LOAD: Record<number, [number, number]> = {
  // size -> [zero-extending load, sign-extending load (MEMSX)]
  [op.BPF_B]: [Op.i64_load8_u, Op.i64_load8_s],
  [op.BPF_H]: [Op.i64_load16_u, Op.i64_load16_s],
  [op.BPF_W]: [Op.i64_load32_u, Op.i64_load32_s],
  [op.BPF_DW]: [Op.i64_load, Op.i64_load],
};
const STORE: Record<number, number> = {
  [op.BPF_B]: Op.i64_store8,
  [op.BPF_H]: Op.i64_store16,
  [op.BPF_W]: Op.i64_store32,
  [op.BPF_DW]: Op.i64_store,
};
const ATOMIC_LOAD: Record<number, number> = {
  [op.BPF_B]: Atomic.i64_load8_u,
  [op.BPF_H]: Atomic.i64_load16_u,
  [op.BPF_W]: Atomic.i64_load32_u,
  [op.BPF_DW]: Atomic.i64_load,
};
const ATOMIC_STORE: Record<number, number> = {
  [op.BPF_B]: Atomic.i64_store8,
  [op.BPF_H]: Atomic.i64_store16,
  [op.BPF_W]: Atomic.i64_store32,
  [op.BPF_DW]: Atomic.i64_store,
};
const ALIGN: Record<number, number> = { [op.BPF_B]: 0, [op.BPF_H]: 1, [op.BPF_W]: 2, [op.BPF_DW]: 3 };

/** An instruction the JIT cannot translate (validateProgram rejects all of these first). */
class CompileError extends TsbpfError {
  constructor(
    readonly pc: number,
    reason: string,
  ) {
    super('EINVAL', `insn ${pc}: ${reason}`);
  }
}

/** Compile a whole program (validated by validateProgram: control flow stays inside it). */
export function compileProgram(insns: readonly Insn[], opts: CompileOptions): CompiledModule {
  const entries = functionStarts(insns);
  const leaders = blockLeaders(insns, entries);
  const idOf = new Int32Array(insns.length).fill(-1);
  const cfgs = entries.map((e) => buildFunctionCfg(insns, e, leaders, idOf));

  // Helpers the program names by id (imported once each).
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
  // Inlinable helpers are imported too, in case the inliner declines at a site.
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

  const m = new ModuleBuilder();
  const tHelper = m.type([I32, I64, I64, I64, I64, I64], [I64]);
  m.importFunc('e', 'fault', m.type([I32, I32, I64], []));
  m.importFunc('e', 'tail', m.type([I32, I64, I64, I64], [I32]));
  m.importFunc('e', 'callx', m.type([I32, I64, I64, I64, I64, I64, I64], [I64]));
  m.importFunc('e', 'ldpkt', m.type([I32, I64, I32, I32], [I64]));
  if (opts.fuel) m.importFunc('e', 'refuel', m.type([I32, I32], [I32]));
  const helperFunc = new Map<number, number>();
  for (const id of helperIds) helperFunc.set(id, m.importFunc('h', String(id), tHelper));
  const fast32Ids: number[] = [];
  for (const id of helperIds) {
    const f = opts.fast32?.(id);
    if (!f) continue;
    fast32Ids.push(id);
    helperFunc.set(fast32Key(id), m.importFunc('h', `${id}_32`, m.type(new Array<ValType>(f.arity + 1).fill(I32), [I32])));
  }
  m.importMemory('e', 'mem', opts.memMinPages, opts.memMaxPages, opts.shared);
  m.global(I32, true, 0); // sp
  m.global(I32, true, 0); // tail
  m.global(I32, true, 0); // cpu
  if (opts.budget) m.global(I64, true, 0);
  if (opts.fuel) m.global(I32, true, 0);
  m.exportGlobal('sp', G_SP);
  m.exportGlobal('tail', G_TAIL);
  m.exportGlobal('cpu', G_CPU);
  if (opts.budget) m.exportGlobal('budget', G_BUDGET);
  if (opts.fuel) m.exportGlobal('fuel', fuelGlobal(opts));

  const tFunc = m.type([I64, I64, I64, I64, I64], [I64]);
  const funcIndex = new Map<number, number>();
  for (const e of entries) {
    const idx = m.declareFunc(tFunc);
    funcIndex.set(e, idx);
    m.exportFunc(`f${e}`, idx);
  }

  // Which functions may take a tail call (directly, through callx, or in a
  // callee): calls into them are followed by an unwind check.
  const mayTail = new Set<number>();
  {
    const calls = new Map<number, number[]>();
    for (const cfg of cfgs) {
      const callees: number[] = [];
      for (const b of cfg.blocks) {
        for (let i = b.start; i < b.end; i++) {
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
  }

  // run(r1..r5, sp, cpu): the per-run entry. Setting the globals here rather
  // than through WebAssembly.Global objects from JS saves a JS->C++ call each.
  // The deadline variant's entries take the first slice of fuel as one more parameter
  // (a parameter costs nothing, where setting the global from JS costs a call into the engine).
  const fuelParam: ValType[] = opts.fuel ? [I32] : [];
  const runIdx = m.declareFunc(m.type([I64, I64, I64, I64, I64, I32, I32, ...fuelParam], [I64]));
  m.exportFunc('run', runIdx);
  {
    const b = new FuncBody([], 32);
    b.localGet(5);
    b.globalSet(G_SP);
    b.localGet(6);
    b.globalSet(G_CPU);
    if (opts.fuel) {
      b.localGet(7);
      b.globalSet(fuelGlobal(opts));
    }
    b.i32Const(0);
    b.globalSet(G_TAIL);
    for (let r = 0; r < 5; r++) b.localGet(r);
    b.call(funcIndex.get(0)!);
    b.end();
    m.setBody(entries.length, b);
  }
  // runctx(ctx i32, sp i32, cpu i32) -> i32: run with r1 = ctx (zero-extended), r2..r5 = 0,
  // returning r0's low 32 bits. The hooks' entry (engine.ts runCtx): a JS caller passes and
  // gets plain numbers, where run's i64 parameters and result cost a BigInt conversion each.
  const runCtxIdx = m.declareFunc(m.type([I32, I32, I32, ...fuelParam], [I32]));
  m.exportFunc('runctx', runCtxIdx);
  {
    const b = new FuncBody([], 32);
    b.localGet(1);
    b.globalSet(G_SP);
    b.localGet(2);
    b.globalSet(G_CPU);
    if (opts.fuel) {
      b.localGet(3);
      b.globalSet(fuelGlobal(opts));
    }
    b.i32Const(0);
    b.globalSet(G_TAIL);
    b.localGet(0);
    b.op(Op.i64_extend_i32_u);
    for (let r = 1; r < 5; r++) b.i64Const32(0);
    b.call(funcIndex.get(0)!);
    b.op(Op.i32_wrap_i64);
    b.end();
    m.setBody(entries.length + 1, b);
  }
  // repeat(ctx i32, sp i32, cpu i32, n i32) -> i32: runctx n (>= 1) times in a loop that
  // stays in WebAssembly, r0's low 32 bits of the last run: BPF_PROG_TEST_RUN's repeat
  // (the kernel's bpf_test_run loop) without a JS call per run. Only in the plain variant
  // (budget and deadline runs are charged per run in JS) and when the program cannot take a
  // tail call (that one returns to engine.ts's trampoline after every run).
  let hasRepeat = false;
  if (!opts.budget && !opts.fuel && !mayTail.has(0)) {
    hasRepeat = true;
    const idx = m.declareFunc(m.type([I32, I32, I32, I32], [I32]));
    m.exportFunc('repeat', idx);
    const b = new FuncBody([[1, I32]], 48);
    b.localGet(1);
    b.globalSet(G_SP);
    b.localGet(2);
    b.globalSet(G_CPU);
    b.i32Const(0);
    b.globalSet(G_TAIL);
    b.blockStart(Op.loop);
    b.localGet(0);
    b.op(Op.i64_extend_i32_u);
    for (let r = 1; r < 5; r++) b.i64Const32(0);
    b.call(funcIndex.get(0)!);
    b.op(Op.i32_wrap_i64);
    b.localSet(4);
    b.localGet(3);
    b.i32Const(1);
    b.op(Op.i32_sub);
    b.localTee(3);
    b.brIf(0);
    b.end();
    b.localGet(4);
    b.end();
    m.setBody(entries.length + 2, b);
  }

  // BPF_PROBE_MEM loads check their address in one shared function (jit/probe-mem.ts).
  let probeFunc: number | undefined;
  if (opts.aux?.some((a) => a?.probeMem)) {
    if (opts.probeTable === undefined) throw new CompileError(opts.aux.findIndex((a) => a?.probeMem), 'a probe-mem load needs the space\'s probe table');
    const f = declareProbeFunc(m);
    m.setBody(f.decl, probeFuncBody(opts.probeTable));
    probeFunc = f.index;
  }

  const functions: CompiledFunction[] = [];
  cfgs.forEach((cfg, n) => {
    const fc = new FunctionCompiler(insns, cfg, opts, helperFunc, funcIndex, mayTail, probeFunc, m);
    const { body, dispatch, regions } = fc.compile();
    m.setBody(n, body);
    functions.push({
      entry: cfg.entry,
      name: `f${cfg.entry}`,
      index: funcIndex.get(cfg.entry)!,
      dispatch,
      blocks: cfg.blocks.length,
      marks: body.marks,
      regions,
    });
  });
  return { bytes: m.toBytes(), functions, helperIds, fast32Ids, hasRepeat };
}

/** The statement list holds a loop (at any depth). */
function hasLoop(list: readonly Stmt[]): boolean {
  const todo: Array<readonly Stmt[]> = [list];
  while (todo.length) {
    for (const s of todo.pop()!) {
      if (s.k === 'loop') return true;
      if (s.k === 'block') todo.push(s.body);
      else if (s.k === 'if') todo.push(s.then);
    }
  }
  return false;
}

class FunctionCompiler {
  /** the body being written: the function's, or an outlined region's while that one is written */
  private c: FuncBody;
  /** the function's outlined regions and their function indices */
  private regions: Region[] = [];
  private regionIndex: number[] = [];
  /** the region being written, if any */
  private region: Region | undefined;
  /** the function's instruction slots */
  private readonly slots: number;
  /** per register: the 32-bit constant an lddw put there in the current block */
  private readonly known: Array<number | undefined> = new Array(11).fill(undefined);
  /** per register: the registers and constant it is the sum of in the current block (address-sum.ts) */
  private readonly sums = new AddressSums();
  constructor(
    private readonly insns: readonly Insn[],
    private readonly cfg: FunctionCfg,
    private readonly opts: CompileOptions,
    private readonly helperFunc: ReadonlyMap<number, number>,
    private readonly funcIndex: ReadonlyMap<number, number>,
    private readonly mayTail: ReadonlySet<number>,
    private readonly probeFunc: number | undefined,
    private readonly m: ModuleBuilder,
  ) {
    let slots = 0;
    for (const b of cfg.blocks) slots += b.end - b.start;
    this.slots = slots;
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
    c.globalSet(G_SP);
    // may_goto (Linux 6.9): the kernel initialises its counter to
    // BPF_MAX_LOOPS in the prologue of every function that uses it.
    if (this.insns.some((x) => x.code === op.OP_MAY_GOTO)) {
      c.i32Const(op.BPF_MAX_LOOPS);
      c.localSet(L_MAYGOTO);
    }
    const { body, dispatch } = structure(this.cfg);
    this.dispatch = dispatch;
    if (this.opts.fuel) {
      let n = 0;
      for (const b of this.cfg.blocks) n += this.insnCount(b.start, b.end);
      this.charge(n, this.cfg.entry);
    }
    // A dispatch loop's blocks all sit in one br_table's reach: it stays whole.
    if (!dispatch) {
      const blocks = this.cfg.blocks;
      this.regions = outline(body, this.slots, (b) => blocks[b]!.end - blocks[b]!.start, this.opts.outline);
      const t = this.m.type(new Array<ValType>(REGION_PARAMS).fill(I64), REGION_RESULTS);
      this.regionIndex = this.regions.map(() => this.m.declareFunc(t));
    }
    // A function with loops runs inside one more `loop`, never branched back to. V8's
    // TurboFan (Node 20) unrolls and peels small innermost loops only when they sit inside
    // another loop: an outermost one keeps a stack check and a branch per iteration. The
    // wrapper makes every loop nested (checksum and strcmp_full 20-25% faster, bench/jit);
    // it costs one stack check per call and changes nothing else, as no branch targets it.
    const wrap = !dispatch && hasLoop(body);
    if (wrap) c.blockStart(Op.loop);
    this.stmts(body);
    if (wrap) c.end();
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
    c.localSet(L_FP);
    c.localGet(L_T64);
    c.op(Op.i32_wrap_i64);
    c.localSet(L_MAYGOTO);
    for (let j = 0; j < r.escapes.length; j++) c.blockStart(Op.block);
    this.stmts(r.body);
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

  /** Emit a structured statement list (iteratively: a dispatch loop nests one block per basic block). */
  private stmts(root: readonly Stmt[]): void {
    const c = this.c;
    const lists: Array<readonly Stmt[]> = [root];
    const pos: number[] = [0];
    /** the list is the body of a block or if: a trailing `br 0` there is a plain fall-through */
    const forward: boolean[] = [false];
    while (lists.length) {
      const top = lists.length - 1;
      const list = lists[top]!;
      const i = pos[top]!;
      if (i === list.length) {
        lists.pop();
        pos.pop();
        forward.pop();
        if (lists.length) c.end(); // closes the block/loop/if that opened this list
        continue;
      }
      pos[top] = i + 1;
      const s = list[i]!;
      switch (s.k) {
        case 'block':
        case 'loop':
          c.blockStart(s.k === 'block' ? Op.block : Op.loop);
          // Every iteration passes its loop's head: charge the body there (a dispatch loop charges per block).
          if (s.k === 'loop' && this.opts.fuel && !this.dispatch) this.charge(this.bodyCount(s.body), this.firstPc(s.body));
          lists.push(s.body);
          pos.push(0);
          forward.push(s.k === 'block');
          break;
        case 'if':
          this.cond(s.b, s.negate);
          c.blockStart(Op.if);
          lists.push(s.then);
          pos.push(0);
          forward.push(true);
          break;
        case 'code':
          if (this.opts.fuel && this.dispatch) {
            const bb = this.cfg.blocks[s.b]!;
            this.charge(this.insnCount(bb.start, bb.end), bb.start);
          }
          this.blockCode(s.b);
          break;
        case 'brIf':
          this.cond(s.b, s.negate);
          c.brIf(this.brDepth(s.depth, top));
          break;
        case 'br':
          if (!(s.depth === 0 && i === list.length - 1 && forward[top])) c.br(this.brDepth(s.depth, top));
          break;
        case 'region':
          this.callRegion(s.r, top);
          break;
        case 'exit':
          c.mark(this.cfg.blocks[s.b]!.last);
          this.ret(L_R0);
          break;
        case 'setLabel':
          c.i32Const(s.value);
          c.localSet(L_LABEL);
          break;
        case 'brTable':
          c.localGet(L_LABEL);
          c.brTable(s.depths, s.depths[s.depths.length - 1]!);
          break;
      }
    }
  }

  /** the function went through the dispatch loop */
  private dispatch = false;

  /** Instruction slots [start, end) as instructions (an lddw is one). */
  private insnCount(start: number, end: number): number {
    let n = 0;
    for (let i = start; i < end; i += this.insns[i]!.code === op.OP_LDDW ? 2 : 1) n++;
    return n;
  }

  /** Visit every basic block of a statement list, nested constructs and outlined regions included (once each). */
  private bodyWalk(list: readonly Stmt[], visit: (bb: { start: number; end: number }) => void): void {
    const todo: Array<readonly Stmt[]> = [list];
    while (todo.length) {
      for (const s of todo.pop()!) {
        if (s.k === 'code') visit(this.cfg.blocks[s.b]!);
        else if (s.k === 'block' || s.k === 'loop') todo.push(s.body);
        else if (s.k === 'if') todo.push(s.then);
        else if (s.k === 'region') todo.push(this.regions[s.r]!.body);
      }
    }
  }

  /** The instructions of every basic block in a statement list, nested loops included (once each). */
  private bodyCount(list: readonly Stmt[]): number {
    let n = 0;
    this.bodyWalk(list, (bb) => (n += this.insnCount(bb.start, bb.end)));
    return Math.max(n, 1);
  }

  /** The first instruction a statement list runs (for the deadline error's pc). */
  private firstPc(list: readonly Stmt[]): number {
    for (const s of list) {
      if (s.k === 'code' || s.k === 'if' || s.k === 'brIf' || s.k === 'exit') return this.cfg.blocks[s.b]!.start;
      if (s.k === 'block' || s.k === 'loop') return this.firstPc(s.body);
      if (s.k === 'region') return this.firstPc(this.regions[s.r]!.body);
    }
    return this.cfg.entry;
  }

  /** fuel -= n; if (fuel < 0) fuel = e.refuel(pc, fuel), which throws when the deadline is reached. */
  private charge(n: number, pc: number): void {
    const c = this.c;
    const g = fuelGlobal(this.opts);
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
    c.call(F_REFUEL);
    c.globalSet(g);
    c.end();
  }

  /** Restore the caller's sp and return the i64 in local `l` (from a region: return, and the caller returns). */
  private ret(l: number): void {
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

  private fault(kind: FaultKind, pc: number, arg = 0): void {
    const c = this.c;
    c.i32Const(kind);
    c.i32Const(pc);
    c.i64Const32(arg);
    c.call(F_FAULT);
    c.op(Op.unreachable);
  }

  private blockCode(b: number): void {
    const bb = this.cfg.blocks[b]!;
    const insns = this.insns;
    const c = this.c;
    if (this.opts.budget) {
      const count = this.insnCount(bb.start, bb.end);
      // budget -= count; if (budget < 0) fault. Charged per block on entry.
      c.globalGet(G_BUDGET);
      c.i64Const32(count);
      c.op(Op.i64_sub);
      c.localTee(L_T64);
      c.globalSet(G_BUDGET);
      c.localGet(L_T64);
      c.i64Const32(0);
      c.op(Op.i64_lt_s);
      c.blockStart(Op.if);
      this.fault(FaultKind.Budget, bb.start);
      c.end();
    }
    const known = this.known;
    known.fill(undefined);
    this.sums.reset();
    for (let i = bb.start; i < bb.end; ) {
      const ins = insns[i]!;
      if (i === bb.last && (isJump(ins) || ins.code === op.OP_EXIT)) break;
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

  /** Push the i32 condition of block b's conditional jump (negated if asked). */
  private cond(b: number, negate: boolean): void {
    const bb = this.cfg.blocks[b]!;
    const ins = this.insns[bb.last]!;
    const c = this.c;
    c.mark(bb.last);
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

  /**
   * Push the i32 address of [reg + off] and return the memarg offset to use
   * with it. Verified programs need nothing more: WebAssembly's bounds
   * (guard pages, no code) keep even a verifier bug inside the space. The
   * checked variant (unverified programs) also computes the full 64-bit
   * address and faults, naming the instruction, unless the access lies
   * inside the space and above the NULL guard page.
   */
  private addr(reg: number, off: number, pc: number, size: number): number {
    const c = this.c;
    if (this.opts.budget) {
      c.localGet(REG[reg]!);
      c.i64Const32(off);
      c.op(Op.i64_add);
      c.localTee(L_T64B);
      // (addr - NULL_GUARD) >u (memory bytes - NULL_GUARD - size): below the guard or past the end
      c.i64Const32(NULL_GUARD);
      c.op(Op.i64_sub);
      c.u8(Op.memory_size);
      c.u8(0);
      c.op(Op.i64_extend_i32_u);
      c.i64Const32(16);
      c.op(Op.i64_shl);
      c.i64Const32(NULL_GUARD + size);
      c.op(Op.i64_sub);
      c.op(Op.i64_gt_u);
      c.blockStart(Op.if);
      c.i32Const(FaultKind.Memory);
      c.i32Const(pc);
      c.localGet(L_T64B);
      c.call(F_FAULT);
      c.op(Op.unreachable);
      c.end();
      c.localGet(L_T64B);
      c.op(Op.i32_wrap_i64);
      return 0;
    }
    const sum = this.sums.sumOf(reg);
    if (sum) {
      // the same address as wrap(reg), summed in i32 (address-sum.ts)
      c.localGet(REG[sum.regs[0]!]!);
      c.op(Op.i32_wrap_i64);
      if (sum.regs.length > 1) {
        c.localGet(REG[sum.regs[1]!]!);
        c.op(Op.i32_wrap_i64);
        c.op(Op.i32_add);
      }
      if (sum.imm !== 0) {
        c.i32Const(sum.imm);
        c.op(Op.i32_add);
      }
    } else {
      c.localGet(REG[reg]!);
      c.op(Op.i32_wrap_i64);
    }
    if (off >= 0) return off;
    c.i32Const(off);
    c.op(Op.i32_add);
    return 0;
  }

  private insn(ins: Insn, pc: number): void {
    const c = this.c;
    const cls = op.classOf(ins.code);
    switch (cls) {
      case op.BPF_ALU64:
        return this.alu64(ins, pc);
      case op.BPF_ALU:
        return this.alu32(ins, pc);
      case op.BPF_LDX: {
        const size = op.sizeOf(ins.code);
        const signExtend = op.modeOf(ins.code) === op.BPF_MEMSX ? 1 : 0;
        if (this.probeFunc !== undefined && this.opts.aux?.[pc]?.probeMem) {
          // BPF_PROBE_MEM: read only inside kernel memory, 0 elsewhere (never a fault)
          probeAddress(c, REG[ins.src]!, ins.off, op.sizeBytes(size), this.opts.probeTable!, this.probeFunc, L_T64B, L_T32);
          probeLoadTail(c, LOAD[size]![signExtend]!, ALIGN[size]!, L_T32);
          c.localSet(REG[ins.dst]!);
          return;
        }
        const off = this.addr(ins.src, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
        c.mem(LOAD[size]![signExtend]!, ALIGN[size]!, off);
        c.localSet(REG[ins.dst]!);
        return;
      }
      case op.BPF_ST: {
        const size = op.sizeOf(ins.code);
        const off = this.addr(ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
        c.i64Const32(ins.imm);
        c.mem(STORE[size]!, ALIGN[size]!, off);
        return;
      }
      case op.BPF_STX: {
        if (op.modeOf(ins.code) === op.BPF_ATOMIC) return this.atomic(ins, pc);
        const size = op.sizeOf(ins.code);
        const off = this.addr(ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
        c.localGet(REG[ins.src]!);
        c.mem(STORE[size]!, ALIGN[size]!, off);
        return;
      }
      case op.BPF_LD: {
        if (ins.code === op.OP_LDDW) {
          const hi = this.insns[pc + 1]!.imm;
          if (ins.src === op.BPF_PSEUDO_FUNC) c.i64Const32(calleeStart(ins, pc)); // callbacks are named by slot
          else if ((hi === 0 && ins.imm >= 0) || (hi === -1 && ins.imm < 0)) c.i64Const32(ins.imm);
          else c.i64Const((BigInt(hi) << 32n) | BigInt(ins.imm >>> 0));
          c.localSet(REG[ins.dst]!);
          return;
        }
        return this.ldPacket(ins, pc);
      }
      case op.BPF_JMP:
        return this.call(ins, pc);
    }
    throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
  }

  /**
   * Legacy LD_ABS/LD_IND (RFC 9669 5.5): r0 = ntoh(packet[imm (+ src)]),
   * the packet being found from r6 by the run-time (e.ldpkt, which returns
   * -1 when the load is out of bounds). An out-of-bounds load ends the
   * function it is in with r0 = 0, as the kernel's JIT does: in the main
   * program that ends the run; in a bpf-to-bpf function (allowed since
   * Linux 5.x where the function has BTF and returns int) the caller goes on.
   */
  private ldPacket(ins: Insn, pc: number): void {
    const c = this.c;
    c.i32Const(pc);
    c.localGet(REG[6]!);
    if (op.modeOf(ins.code) === op.BPF_IND) {
      c.localGet(REG[ins.src]!);
      c.op(Op.i32_wrap_i64);
      c.i32Const(ins.imm);
      c.op(Op.i32_add);
    } else c.i32Const(ins.imm);
    c.i32Const(op.sizeBytes(op.sizeOf(ins.code)));
    c.call(F_LDPKT);
    c.localTee(L_T64);
    c.i64Const32(0);
    c.op(Op.i64_lt_s);
    c.blockStart(Op.if);
    c.i64Const32(0);
    c.localSet(L_R0);
    this.ret(L_R0);
    c.end();
    c.localGet(L_T64);
    c.localSet(L_R0);
  }

  /** The 64-bit source operand: register, or the immediate sign-extended (RFC 9669 4.1). */
  private src64(ins: Insn): void {
    if (op.sourceOf(ins.code) === op.BPF_X) this.c.localGet(REG[ins.src]!);
    else this.c.i64Const32(ins.imm);
  }

  /** The 32-bit source operand: the register's low half, or the immediate. */
  private src32(ins: Insn): void {
    if (op.sourceOf(ins.code) === op.BPF_X) {
      this.c.localGet(REG[ins.src]!);
      this.c.op(Op.i32_wrap_i64);
    } else this.c.i32Const(ins.imm);
  }

  private dst32(ins: Insn): void {
    this.c.localGet(REG[ins.dst]!);
    this.c.op(Op.i32_wrap_i64);
  }

  /** Every 32-bit result is zero-extended into the 64-bit register (RFC 9669 4.1). */
  private done32(ins: Insn): void {
    this.c.op(Op.i64_extend_i32_u);
    this.c.localSet(REG[ins.dst]!);
  }

  private alu64(ins: Insn, pc: number): void {
    const c = this.c;
    const o = op.opOf(ins.code);
    const x = op.sourceOf(ins.code) === op.BPF_X;
    const d = REG[ins.dst]!;
    const simple = SIMPLE_ALU[o];
    if (simple) {
      c.localGet(d);
      this.src64(ins);
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
        return this.divmod64(ins, pc);
      case op.BPF_END:
        // ALU64|END (v4 bswap) swaps unconditionally.
        this.bswap(d, ins.imm);
        return;
    }
    throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
  }

  /**
   * 64-bit division and modulo with eBPF's total semantics (RFC 9669 4.1 and
   * the kernel's fixups in do_misc_fixups): x/0 = 0, x%0 = x, and signed
   * LLONG_MIN/-1 = LLONG_MIN, LLONG_MIN%-1 = 0, where WebAssembly would trap.
   */
  private divmod64(ins: Insn, pc: number): void {
    const c = this.c;
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
    if (this.opts.aux?.[pc]?.nonZeroDivisor && !(signed && div)) {
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

  private alu32(ins: Insn, pc: number): void {
    const c = this.c;
    const o = op.opOf(ins.code);
    const x = op.sourceOf(ins.code) === op.BPF_X;
    const d = REG[ins.dst]!;
    const simple = SIMPLE_ALU[o];
    if (simple) {
      this.dst32(ins);
      this.src32(ins);
      c.op(simple[1]);
      this.done32(ins);
      return;
    }
    switch (o) {
      case op.BPF_MOV:
        if (x) {
          this.src32(ins);
          if (ins.off === 8) c.op(Op.i32_extend8_s);
          else if (ins.off === 16) c.op(Op.i32_extend16_s);
          this.done32(ins);
        } else {
          c.i64ConstNum(ins.imm >>> 0);
          c.localSet(d);
        }
        return;
      case op.BPF_NEG:
        c.i32Const(0);
        this.dst32(ins);
        c.op(Op.i32_sub);
        this.done32(ins);
        return;
      case op.BPF_DIV:
      case op.BPF_MOD:
        return this.divmod32(ins, pc);
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
        this.bswap(d, ins.imm);
        return;
      }
    }
    throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
  }

  /** 32-bit div/mod: as {@link divmod64} on the low halves; x%0 leaves the low half of x, zero-extended. */
  private divmod32(ins: Insn, pc: number): void {
    const c = this.c;
    const div = op.opOf(ins.code) === op.BPF_DIV;
    const signed = ins.off === 1;
    const x = op.sourceOf(ins.code) === op.BPF_X;
    const wop = div ? (signed ? Op.i32_div_s : Op.i32_div_u) : signed ? Op.i32_rem_s : Op.i32_rem_u;
    if (!x) {
      const v = ins.imm;
      if (v === 0) {
        if (div) c.i32Const(0);
        else this.dst32(ins);
      } else if (signed && v === -1) {
        if (div) {
          c.i32Const(0);
          this.dst32(ins);
          c.op(Op.i32_sub);
        } else c.i32Const(0);
      } else {
        this.dst32(ins);
        c.i32Const(v);
        c.op(wop);
      }
      return this.done32(ins);
    }
    if (this.opts.aux?.[pc]?.nonZeroDivisor && !(signed && div)) {
      this.dst32(ins);
      this.src32(ins);
      c.op(wop);
      return this.done32(ins);
    }
    if (!div || !signed) {
      this.src32(ins);
      c.op(Op.i32_eqz);
      c.u8(Op.if);
      c.u8(I32);
      if (div) c.i32Const(0);
      else this.dst32(ins);
      c.op(Op.else);
      this.dst32(ins);
      this.src32(ins);
      c.op(wop);
      c.end();
      return this.done32(ins);
    }
    this.src32(ins);
    c.localTee(L_T32);
    c.i32Const(1);
    c.op(Op.i32_add);
    c.i32Const(2);
    c.op(Op.i32_lt_u);
    c.u8(Op.if);
    c.u8(I32);
    c.i32Const(0);
    c.i32Const(0);
    this.dst32(ins);
    c.op(Op.i32_sub);
    c.localGet(L_T32);
    c.op(Op.i32_eqz);
    c.op(Op.select);
    c.op(Op.else);
    this.dst32(ins);
    c.localGet(L_T32);
    c.op(Op.i32_div_s);
    c.end();
    this.done32(ins);
  }

  /** Reverse the low `width` bits' bytes of local d, zero-extending (WebAssembly has no bswap). */
  private bswap(d: number, width: number): void {
    const c = this.c;
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
      this.bswap32Top();
      c.op(Op.i64_extend_i32_u);
      c.localSet(d);
    } else {
      // Swap the two halves' bytes: bswap32(lo) << 32 | bswap32(hi).
      c.localGet(d);
      c.op(Op.i32_wrap_i64);
      this.bswap32Top();
      c.op(Op.i64_extend_i32_u);
      c.i64Const32(32);
      c.op(Op.i64_shl);
      c.localGet(d);
      c.i64Const32(32);
      c.op(Op.i64_shr_u);
      c.op(Op.i32_wrap_i64);
      this.bswap32Top();
      c.op(Op.i64_extend_i32_u);
      c.op(Op.i64_or);
      c.localSet(d);
    }
  }

  /** i32 on the stack -> its bytes reversed: rotr(x & 0x00ff00ff, 8) | rotl(x & 0xff00ff00, 8). */
  private bswap32Top(): void {
    const c = this.c;
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

  /**
   * BPF_ATOMIC (RFC 9669 5.3) and Linux's load-acquire/store-release. On a
   * shared memory these are WebAssembly atomics (sequentially consistent,
   * stronger than the kernel needs); on an unshared one only this thread can
   * see the memory, so a plain load/op/store is indistinguishable.
   */
  private atomic(ins: Insn, pc: number): void {
    const c = this.c;
    const size = op.sizeOf(ins.code);
    const shared = this.opts.shared;
    const s = REG[ins.src]!;
    const align = ALIGN[size]!;
    if (ins.imm === op.BPF_LOAD_ACQ) {
      const off = this.addr(ins.src, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
      if (shared) c.atomic(ATOMIC_LOAD[size]!, align, off);
      else c.mem(LOAD[size]![0]!, align, off);
      c.localSet(REG[ins.dst]!);
      return;
    }
    if (ins.imm === op.BPF_STORE_REL) {
      const off = this.addr(ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
      c.localGet(s);
      if (shared) c.atomic(ATOMIC_STORE[size]!, align, off);
      else c.mem(STORE[size]!, align, off);
      return;
    }
    const dw = size === op.BPF_DW;
    const aop = ins.imm & ~op.BPF_FETCH;
    const fetch = (ins.imm & op.BPF_FETCH) !== 0;
    if (shared) {
      const base =
        ins.imm === op.BPF_CMPXCHG ? Atomic.rmw_cmpxchg
        : ins.imm === op.BPF_XCHG ? Atomic.rmw_xchg
        : aop === op.BPF_ADD ? Atomic.rmw_add
        : aop === op.BPF_AND ? Atomic.rmw_and
        : aop === op.BPF_OR ? Atomic.rmw_or
        : Atomic.rmw_xor;
      // i64.atomic.rmw.* is base+1; i64.atomic.rmw32.*_u (zero-extending the old value) is base+6.
      const sub = base + (dw ? 1 : 6);
      const off = this.addr(ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
      if (ins.imm === op.BPF_CMPXCHG) {
        c.localGet(L_R0);
        c.localGet(s);
        c.atomic(sub, align, off);
        c.localSet(L_R0);
        return;
      }
      c.localGet(s);
      c.atomic(sub, align, off);
      if (fetch) c.localSet(s);
      else c.op(Op.drop);
      return;
    }
    const ld = dw ? Op.i64_load : Op.i64_load32_u;
    const st = dw ? Op.i64_store : Op.i64_store32;
    const off = this.addr(ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
    c.localSet(L_ADDR);
    // old value -> t64
    c.localGet(L_ADDR);
    c.mem(ld, align, off);
    c.localSet(L_T64);
    if (ins.imm === op.BPF_CMPXCHG) {
      c.localGet(L_T64);
      c.localGet(L_R0);
      if (!dw) {
        c.op(Op.i32_wrap_i64);
        c.localSet(L_T32);
        c.op(Op.i32_wrap_i64);
        c.localGet(L_T32);
        c.op(Op.i32_eq);
      } else c.op(Op.i64_eq);
      c.blockStart(Op.if);
      c.localGet(L_ADDR);
      c.localGet(s);
      c.mem(st, align, off);
      c.end();
      c.localGet(L_T64);
      c.localSet(L_R0);
      return;
    }
    c.localGet(L_ADDR);
    if (ins.imm === op.BPF_XCHG) c.localGet(s);
    else {
      c.localGet(L_T64);
      c.localGet(s);
      c.op(aop === op.BPF_ADD ? Op.i64_add : aop === op.BPF_AND ? Op.i64_and : aop === op.BPF_OR ? Op.i64_or : Op.i64_xor);
    }
    c.mem(st, align, off);
    if (fetch) {
      c.localGet(L_T64);
      c.localSet(s);
    }
  }

  private call(ins: Insn, pc: number): void {
    const c = this.c;
    if (isPseudoCall(ins)) {
      const target = calleeStart(ins, pc);
      // A ninth frame would start below the stack region (kernel: MAX_CALL_FRAMES).
      c.globalGet(G_SP);
      c.i32Const(this.opts.stackBase + this.opts.stackSize);
      c.op(Op.i32_lt_u);
      c.blockStart(Op.if);
      this.fault(FaultKind.CallDepth, pc);
      c.end();
      for (let r = 1; r <= 5; r++) c.localGet(REG[r]!);
      c.call(this.funcIndex.get(target)!);
      c.localSet(L_R0);
      if (this.mayTail.has(target)) this.unwindIfTail();
      return;
    }
    if (ins.code === op.OP_CALLX) {
      // callx: the helper id is in the register named by dst (as the conformance suite encodes it).
      c.i32Const(pc);
      c.localGet(REG[ins.dst]!);
      for (let r = 1; r <= 5; r++) c.localGet(REG[r]!);
      c.call(F_CALLX);
      c.localSet(L_R0);
      this.unwindIfTail();
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
        c.call(F_TAIL);
        c.blockStart(Op.if);
        c.i32Const(1);
        c.globalSet(G_TAIL);
        this.ret(L_R0);
        c.end();
        return;
      }
      const inl = this.opts.inliners?.get(id);
      if (inl) {
        const site: InlineSite = {
          body: c,
          pc,
          helperId: id,
          aux: this.opts.aux?.[pc],
          reg: (r) => REG[r]!,
          cpuGlobal: G_CPU,
          constReg: (r) => this.known[r],
          tmp32: L_T32,
          tmp64: L_T64,
        };
        if (inl(site)) return;
      }
      const f = this.helperFunc.get(id);
      if (f === undefined) throw new CompileError(pc, `helper ${id} not imported`);
      const f32 = this.helperFunc.get(fast32Key(id));
      const fast = f32 !== undefined ? this.opts.fast32?.(id) : undefined;
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
      this.fault(FaultKind.Unsupported, pc, 2);
      return;
    }
    throw new CompileError(pc, `cannot compile opcode 0x${ins.code.toString(16)}`);
  }

  /** After a call that may have taken a tail call: keep unwinding to the trampoline. */
  private unwindIfTail(): void {
    const c = this.c;
    c.globalGet(G_TAIL);
    c.blockStart(Op.if);
    this.ret(L_R0);
    c.end();
  }
}
