/**
 * A single-step debugger over the interpreter.
 *
 * ```ts
 * const exe = new Interpreter().prepare(image);
 * const dbg = new Debugger(exe, { args: [ctx] });
 * dbg.setBreakpoint(12);
 * let ev = dbg.continue();          // runs to insn 12: { reason: 'breakpoint', pc: 12, depth: 0 }
 * dbg.register(1);                  // r1 as an unsigned 64-bit bigint
 * ev = dbg.step();                  // executes insn 12: { reason: 'step', pc: <next> }
 * dbg.stack();                      // the 512 bytes of the current frame (a copy)
 * ev = dbg.continue();              // { reason: 'exit', r0 } or 'fault' / 'budget' with the error
 * dbg.close();                      // give the run's stack back
 * ```
 *
 * The debugger runs the same dispatch loop as `exe.run()`, on its own copy of
 * the decoded program: a breakpoint replaces the opcode at its slot by an
 * internal BREAK opcode (as debuggers patch an int3 into machine code), so
 * execution between stops runs at full speed. Stepping hands the loop a
 * budget of one instruction.
 *
 * Stops are reported, not thrown: a fault or an exhausted budget ends the
 * session with `reason: 'fault'` / `'budget'` and the typed error. A `call`
 * of a helper is one step even when the helper runs callbacks (bpf_loop);
 * breakpoints inside callbacks are not hit. After a tail call, `insns` is the
 * target's program and breakpoints (slots of the first program) no longer
 * apply.
 */
import type { Insn } from '../isa/insn.js';
import type { RunArgs } from './engine.js';
import { BudgetExceeded, ExecError } from './fault.js';
import { I_BREAK, patchableCopy, type DecodedProgram } from './interp/decode.js';
import { exec } from './interp/exec.js';
import { BREAK, EXIT, regU64 } from './interp/slow.js';
import { BUDGET_CHUNK, type Activation, type RunState } from './interp/state.js';
import type { InterpExecutable } from './interpreter.js';

export type StopReason = 'step' | 'breakpoint' | 'exit' | 'fault' | 'budget';

export interface StopEvent {
  reason: StopReason;
  /** the slot execution stopped at (for 'fault'/'budget': the failing one) */
  pc: number;
  /** frame depth: 0 in the program's main function, +1 per bpf-to-bpf call */
  depth: number;
  /** r0, for 'exit' */
  r0?: bigint;
  /** the typed error, for 'fault' and 'budget' */
  error?: ExecError;
}

export class Debugger {
  private readonly st: RunState;
  private readonly act: Activation;
  private readonly prog: DecodedProgram;
  private readonly bps = new Set<number>();
  private last: StopEvent | undefined;
  private closed = false;
  /** instructions executed so far */
  steps = 0;

  constructor(
    readonly exe: InterpExecutable,
    args: RunArgs = {},
  ) {
    this.prog = patchableCopy(exe.decoded);
    this.st = exe.acquire(args);
    this.act = exe.entry(this.st, args, true, this.prog);
    // A debugged run is in flight until it ends or close(): memory it may point at waits (memory.ts, grace period).
    exe.image.space.enterRun();
    this.inRun = true;
  }

  private inRun = false;
  private endRun(): void {
    if (!this.inRun) return;
    this.inRun = false;
    this.exe.image.space.exitRun();
  }

  /** True once the program exited, faulted or ran out of budget. */
  get done(): boolean {
    return this.last !== undefined && this.last.reason !== 'step' && this.last.reason !== 'breakpoint';
  }

  /** The last stop, if any. */
  get lastStop(): StopEvent | undefined {
    return this.last;
  }

  get pc(): number {
    return this.act.pc;
  }

  /** Frame depth (0 = main function). */
  get depth(): number {
    return this.act.depth;
  }

  /** The instructions being executed (the tail-call target's after a tail call). */
  get insns(): readonly Insn[] {
    return this.act.prog.insns;
  }

  /** Remaining instruction budget. */
  get budgetLeft(): number {
    return this.st.left + this.st.reserve;
  }

  /** Register rN (0..10) as an unsigned 64-bit value. */
  register(n: number): bigint {
    if (!Number.isInteger(n) || n < 0 || n > 10) throw new RangeError(`no register r${n}`);
    return regU64(this.act.R, 2 * n);
  }

  /** r0..r10. */
  registers(): bigint[] {
    return Array.from({ length: 11 }, (_, i) => this.register(i));
  }

  /** Set register rN (for "what if" debugging). */
  setRegister(n: number, v: bigint): void {
    if (!Number.isInteger(n) || n < 0 || n > 10) throw new RangeError(`no register r${n}`);
    const u = BigInt.asUintN(64, v);
    this.act.R[2 * n] = Number(BigInt.asIntN(32, u));
    this.act.R[2 * n + 1] = Number(BigInt.asIntN(32, u >> 32n));
  }

  /** A copy of the stack bytes of frame `depth` (default: the current frame), lowest address first. */
  stack(depth = this.act.depth): Uint8Array {
    const top = this.st.stackTop(depth);
    return this.st.space.bytes(top - this.st.stackSize, this.st.stackSize).slice();
  }

  /** r10 of frame `depth`. */
  framePointer(depth = this.act.depth): number {
    return this.st.stackTop(depth);
  }

  /** A copy of `len` bytes of the address space at `addr`. */
  memory(addr: number, len: number): Uint8Array {
    return this.st.space.bytes(addr, len).slice();
  }

  get breakpoints(): ReadonlySet<number> {
    return this.bps;
  }

  setBreakpoint(pc: number): void {
    const op = (this.prog.clean ?? this.prog).op[pc];
    if (!Number.isInteger(pc) || op === undefined || op === 0x100)
      throw new RangeError(`slot ${pc} is not an instruction of ${this.exe.image.name}`);
    this.bps.add(pc);
    this.arm(pc);
  }

  private arm(pc: number): void {
    this.prog.op[pc] = I_BREAK;
    this.prog.code[pc] = (this.prog.clean!.code[pc]! & ~0x1ff) | I_BREAK;
  }

  private disarm(pc: number): void {
    this.prog.op[pc] = this.prog.clean!.op[pc]!;
    this.prog.code[pc] = this.prog.clean!.code[pc]!;
  }

  clearBreakpoint(pc: number): void {
    if (!this.bps.delete(pc)) return;
    this.disarm(pc);
  }

  /** Execute one instruction. */
  step(): StopEvent {
    if (this.done) return this.last!;
    return this.resume(1);
  }

  /** Run until a breakpoint, the exit, a fault or the end of the budget. */
  continue(): StopEvent {
    if (this.done) return this.last!;
    // Leave a breakpoint we are stopped at by stepping over its instruction first.
    if (this.bps.has(this.act.pc) && this.act.prog === this.prog) {
      const ev = this.resume(1);
      if (ev.reason !== 'step') return ev;
    }
    return this.resume(Infinity);
  }

  /** Give the run's stack back to the executable. The debugger cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.exe.releaseState(this.st);
    this.endRun();
  }
  [Symbol.dispose](): void {
    this.close();
  }

  private resume(limit: number): StopEvent {
    if (this.closed) throw new Error('debugger closed');
    const st = this.st;
    const act = this.act;
    const atBp = this.bps.has(act.pc) && act.prog === this.prog;
    if (atBp && limit === 1) this.disarm(act.pc);
    try {
      for (;;) {
        if (st.reserve === 0) return this.stop({ reason: 'budget', pc: act.pc, depth: act.depth, error: new BudgetExceeded(act.pc, st.budget) });
        const k = Math.min(st.reserve, limit, BUDGET_CHUNK);
        st.reserve -= k;
        st.left = k;
        const status = exec(st, act);
        const used = k - st.left;
        this.steps += used;
        // Return what the loop did not use.
        st.reserve += st.left;
        st.left = 0;
        if (status === EXIT) return this.stop({ reason: 'exit', pc: act.pc, depth: act.depth, r0: regU64(act.R, 0) });
        if (status === BREAK) return this.stop({ reason: 'breakpoint', pc: act.pc, depth: act.depth });
        // STOP: the chunk ran out.
        if (limit !== Infinity) {
          limit -= used;
          if (limit <= 0) return this.stop({ reason: 'step', pc: act.pc, depth: act.depth });
        }
      }
    } catch (e) {
      if (!(e instanceof ExecError)) throw e;
      return this.stop({ reason: e instanceof BudgetExceeded ? 'budget' : 'fault', pc: e.pc >= 0 ? e.pc : act.pc, depth: act.depth, error: e });
    } finally {
      // Re-arm the breakpoint stepped over.
      for (const b of this.bps) this.arm(b);
    }
  }

  private stop(ev: StopEvent): StopEvent {
    this.last = ev;
    if (ev.reason !== 'step' && ev.reason !== 'breakpoint') this.endRun();
    return ev;
  }
}
