/**
 * The fixed layout every compiled module shares (compile.ts's header
 * describes the whole module): the indices of the globals, the locals each function keeps the eBPF registers in,
 * and the fault kinds e.fault reports to engine.ts.
 */
import type { CompileOptions } from './compile.js';
import { I32, I64, type ValType } from './wasm.js';

/** Reasons the generated code calls e.fault. */
export const enum FaultKind {
  CallDepth = 1,
  Budget = 2,
  UnknownHelper = 3,
  Unsupported = 4,
  /** checked variant: an access outside the space or into the NULL guard page (arg = address) */
  Memory = 5,
}

// Global indices (fixed layout; the imported functions are runtime-imports.ts's).
export const G_SP = 0;
export const G_TAIL = 1;
export const G_CPU = 2;
export const G_BUDGET = 3;
/** the fuel global follows budget when both are there */
export const fuelGlobal = (opts: CompileOptions): number => (opts.budget ? G_BUDGET + 1 : G_BUDGET);

// Local layout: r1..r5 are parameters 0..4.
export const L_R0 = 5;
export const L_T64 = 11;
export const L_T64B = 12;
export const L_ADDR = 13;
export const L_FP = 14;
export const L_LABEL = 15;
export const L_T32 = 16;
/** may_goto's budget, per function invocation (the kernel's hidden stack slot) */
export const L_MAYGOTO = 17;
/**
 * The frame's lowest byte (fp - stackSize, i32): a stack access [r10 + off]
 * is `local.get base` with stackSize + off as the memarg's offset, which
 * cannot be negative (memory-access.ts).
 */
export const L_BASE = 18;
export const LOCALS: ReadonlyArray<[number, ValType]> = [
  [8, I64], // r0, r6..r10, t64, t64b
  [6, I32], // addr, fp, label, t32, may_goto budget, base
];
/**
 * An outlined region's function keeps the same local layout, so its code is
 * emitted exactly as inline code: its parameters are locals 0..11 (r1..r5,
 * r0, r6..r9, r10, and the may_goto budget widened into t64's slot); it
 * returns locals 0..9, the may_goto budget and a status (outline.ts).
 */
export const REGION_PARAMS = 12;
export const REGION_LOCALS: ReadonlyArray<[number, ValType]> = [
  [1, I64], // t64b
  [6, I32], // addr, fp, label, t32, may_goto budget, base
];
export const REGION_RESULTS: readonly ValType[] = [...new Array<ValType>(10).fill(I64), I32, I32];
/** eBPF register -> local index */
export const REG = [L_R0, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10];
