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
 *            (each of these only when the code may call it: runtime-imports.ts)
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
 *
 * This file assembles the module; the pieces: layout.ts (the fixed import,
 * global and local indices), function-compiler.ts (one eBPF function: its
 * structure, outlined regions, basic blocks), alu.ts, memory-access.ts,
 * calls.ts, condition.ts (conditional jumps), metering.ts (budget and fuel)
 * and run-entries.ts (run, runctx, repeat).
 */
import type { Insn } from '../../isa/insn.js';
import type { InsnAux } from '../../verifier/insn-aux.js';
import { blockCounts, blockLeaders, buildFunctionCfg } from './cfg.js';
import { functionStarts } from '../../isa/control-flow.js';
import type { OutlineLimits } from './outline.js';
import { I32, I64, ModuleBuilder, type FuncBody, type ValType } from './wasm.js';
import { declareProbeFunc, probeFuncBody } from './probe-mem.js';
import { CompileError } from './compile-error.js';
import { fast32Key, mayTailCall, programHelpers } from './calls.js';
import { FunctionCompiler } from './function-compiler.js';
import { fuelGlobal, G_BUDGET, G_CPU, G_SP, G_TAIL } from './layout.js';
import { runEntries } from './run-entries.js';
import { RuntimeImports, servicesUsed } from './runtime-imports.js';

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

/** Compile a whole program (validated by validateProgram: control flow stays inside it). */
export function compileProgram(insns: readonly Insn[], opts: CompileOptions): CompiledModule {
  const entries = functionStarts(insns);
  const leaders = blockLeaders(insns, entries);
  const idOf = new Int32Array(insns.length).fill(-1);
  const counts = blockCounts(leaders, entries, insns.length);
  const cfgs = entries.map((e, k) => buildFunctionCfg(insns, e, leaders, idOf, counts[k]));

  // Helpers the program names by id (imported once each).
  const helperIds = programHelpers(insns, opts);

  const m = new ModuleBuilder();
  const runtime = new RuntimeImports(m, servicesUsed(insns, opts));
  const helperFunc = new Map<number, number>();
  if (helperIds.length) {
    const tHelper = m.type([I32, I64, I64, I64, I64, I64], [I64]);
    for (const id of helperIds) helperFunc.set(id, m.importFunc('h', String(id), tHelper));
  }
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

  const mayTail = mayTailCall(insns, cfgs);
  const hasRepeat = runEntries(m, opts, entries.length, funcIndex.get(0)!, mayTail.has(0));

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
    const fc = new FunctionCompiler(insns, cfg, opts, runtime, helperFunc, funcIndex, mayTail, probeFunc, m);
    const { body, dispatch, regions } = fc.compile();
    m.setBody(n, body);
    functions.push({
      entry: cfg.entry,
      name: `f${cfg.entry}`,
      index: funcIndex.get(cfg.entry)!,
      dispatch,
      blocks: cfg.n,
      marks: body.marks,
      regions,
    });
  });
  return { bytes: m.toBytes(), functions, helperIds, fast32Ids, hasRepeat };
}
