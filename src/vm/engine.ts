/**
 * What an execution engine (the interpreter or the JIT) is given and what it
 * returns. The runtime prepares a {@link ProgramImage} — instructions whose
 * lddw map references are already resolved to addresses, as the kernel's
 * resolve_pseudo_ldimm64 does — and an engine turns it into an
 * {@link Executable}.
 */
import type { Insn } from '../isa/insn.js';
import type { HelperRegistry } from './helper-abi.js';
import type { AddressSpace } from '../memory/address-space.js';
import type { InsnAux } from '../verifier/insn-aux.js';
import { TsbpfError } from '../errors.js';

export interface ProgramImage {
  name: string;
  /**
   * Instruction slots. lddw carries plain 64-bit values (map addresses
   * included); `src` may still say which pseudo kind it was, for disassembly.
   */
  insns: readonly Insn[];
  helpers: HelperRegistry;
  space: AddressSpace;
  /** Stack bytes per frame (512, the kernel's MAX_BPF_STACK). */
  stackSize?: number;
  /**
   * The verifier accepted this program. Engines then default to bounds-only
   * memory checks and an unlimited budget; unverified images get checked mode
   * (every access inside a registered region) and a budget of 1e9.
   */
  verified?: boolean;
  /** Verifier results indexed by slot. */
  aux?: ReadonlyArray<InsnAux | undefined>;
  /**
   * Resolve a tail call: the program at `index` of the prog_array whose map
   * pointer is `mapAddr`, or undefined when the slot is empty or out of range
   * (the helper then returns and execution continues, as in the kernel).
   */
  tailCallTarget?: (mapAddr: number, index: number) => Executable | undefined;
  /**
   * The program's probe domain (its collection's memory): helpers see it as
   * ExecEnv.owner while this program runs, and the engine gives its stack
   * regions this owner (helpers/reach.ts).
   */
  owner?: object;
  /** the deadline of every run that names none (RuntimeOptions.runDeadline); engines then compile their checks in */
  deadline?: RunDeadline;
}

/**
 * A limit on one run, for hosts that must keep their thread responsive (a
 * verified program with nested bpf_loop calls may run for a very long
 * time, in Linux too). Exceeding it stops the run with RunDeadlineExceeded
 * (ETIME). The interpreter counts instructions exactly; the JIT counts at
 * function entries and loop heads, charging each the instructions of the
 * whole function or loop body, so it never counts fewer than ran and may
 * stop a little earlier. Time is read once per slice of 65,536 counted
 * instructions, from the end of the first slice on: a run shorter than one
 * slice never reads the clock, and a run is stopped at the first check
 * after `ms` have passed since then.
 */
export interface RunDeadline {
  instructions?: number;
  ms?: number;
}

/** Counted instructions between two looks at the clock (and the JIT's refills). */
export const DEADLINE_SLICE = 1 << 16;

/** A deadline's limits must be positive numbers (instructions an integer); EINVAL otherwise. */
export function checkDeadline(d: RunDeadline): RunDeadline {
  const { instructions: n, ms } = d;
  if (n !== undefined && !(Number.isSafeInteger(n) && n > 0)) throw new TsbpfError('EINVAL', `invalid run deadline: ${n} instructions`);
  if (ms !== undefined && !(ms > 0 && Number.isFinite(ms))) throw new TsbpfError('EINVAL', `invalid run deadline: ${ms} ms`);
  return d;
}

export interface RunArgs {
  /** r1..r5 at entry (r1 is the context pointer for real program types) */
  args?: readonly bigint[];
  /** the CPU (worker slot) this run is on */
  cpu?: number;
  /** runtime state handed to helpers through ExecEnv.run */
  run?: unknown;
  /**
   * Maximum instructions to execute before a {@link BudgetExceeded} fault
   * (for programs run without verification). Default: unlimited for verified
   * programs, 1e9 otherwise.
   */
  budget?: number;
  /** stop the run when it passes this (default: ProgramImage.deadline) */
  deadline?: RunDeadline;
  /**
   * @internal Tail calls already taken in this chain: a tail call into
   * another engine's executable (a tiered program on the other tier) runs it
   * with the chain's count, which MAX_TAIL_CALL_CNT bounds across engines as
   * the kernel's tail_call_cnt does across programs.
   */
  tailCalls?: number;
}

export interface Executable {
  readonly image: ProgramImage;
  /** Run once; returns r0 as an unsigned 64-bit value. */
  run(args?: RunArgs): bigint;
  /**
   * Optional fast entry for hooks: the same as `run({ args: [BigInt(ctx)], cpu, run })`
   * but returning r0's low 32 bits as a signed int (what hook programs return).
   */
  runCtx?(ctx: number, cpu: number, run: unknown): number;
  /**
   * Optional: `n` (>= 1) runs of runCtx in one call, as BPF_PROG_TEST_RUN's
   * repeat, returning the last run's r0 (low 32 bits, signed); undefined
   * when this executable cannot now (the caller then loops over run/runCtx).
   */
  runRepeat?(ctx: number, cpu: number, run: unknown, n: number): number | undefined;
  /**
   * Release what the executable holds in the address space (the JIT's stack
   * frames). Runs after close() throw EBADF. Idempotent.
   */
  close?(): void;
}

export interface Engine {
  readonly kind: 'interpreter' | 'jit';
  prepare(image: ProgramImage): Executable;
  /**
   * prepare() without synchronous compilation, for async load paths: browser
   * main threads refuse to compile large WebAssembly modules synchronously.
   */
  prepareAsync?(image: ProgramImage): Promise<Executable>;
  /**
   * false while prepare() cannot run yet: an engine whose module is imported by its first
   * prepareAsync (the runtime's lazily loaded engines, src/runtime/runtime.ts). Absent: it can.
   */
  readonly ready?: boolean;
}

/**
 * Engines whose modules are loaded, by kind: src/vm/interpreter.ts sets `interpreter` and
 * src/vm/jit/engine.ts `jit` when they are imported (the library's entry points, src/index.ts and
 * src/core.ts, import both). A runtime takes its engine from here, so that its `engine` is an
 * `Interpreter` or a `JitEngine` from construction on (the public contract,
 * test/api-public.test.ts); where the module is not loaded (the CLI imports the runtime's module
 * directly), the runtime imports it with its first program, so that a command running on the JIT
 * never loads the interpreter, and one run on the tiered engine never loads the JIT (issue 17).
 */
export const loadedEngines: { interpreter?: () => Engine; jit?: () => Engine } = {};
