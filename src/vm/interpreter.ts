/**
 * The reference interpreter: an {@link Engine} that runs eBPF instruction by
 * instruction over the runtime's {@link AddressSpace}.
 *
 * `prepare` validates the program (src/isa/validate.ts: the structural checks
 * the kernel makes before verification), pre-decodes it into typed arrays
 * (./interp/decode.ts) and returns an executable; each `run` executes the
 * dispatch loop of ./interp/exec.ts.
 *
 * Memory safety has two modes. Unchecked ("bounds") mode, the default for
 * verified programs, checks every access against the address space (above
 * the NULL guard page). Checked mode, the default for unverified programs,
 * requires each access to lie inside one registered region (stack frame,
 * context, packet, map value, ...) with the right permission. Either way a
 * bad access is a typed VmFault (./fault.ts), never a JavaScript crash.
 */
import { BPF_MAX_LOOPS, MAX_BPF_STACK } from '../isa/opcodes.js';
import { validateProgram } from '../isa/validate.js';
import type { ExecEnv } from './helper-abi.js';
import { checkDeadline, loadedEngines, type Engine, type Executable, type ProgramImage, type RunArgs } from './engine.js';
import { decodeProgram, type DecodedProgram } from './interp/decode.js';
import { exec } from './interp/exec.js';
import { EXIT, callFunc, regU64 } from './interp/slow.js';
import { Activation, REG_WORDS, RunState, type InterpTarget } from './interp/state.js';
import { UnsupportedInsn } from './fault.js';
import { TsbpfError } from '../errors.js';

export { VmFault, BudgetExceeded, CallDepthExceeded, UnknownHelper, HelperError, UnsupportedInsn, ExecError, RunDeadlineExceeded } from './fault.js';
export type { LegacyPacketSource } from './interp/slow.js';

/** Default budget of unverified programs (RunArgs.budget). */
export const DEFAULT_UNVERIFIED_BUDGET = 1e9;

export interface InterpreterOptions {
  /**
   * Police accesses against the address space's registered regions. Default:
   * on for images not marked `verified`, off for verified ones.
   */
  checked?: boolean;
}

export class Interpreter implements Engine {
  readonly kind = 'interpreter' as const;
  constructor(readonly options: InterpreterOptions = {}) {}

  prepare(image: ProgramImage): InterpExecutable {
    validateProgram(image.insns);
    return new InterpExecutable(image, decodeProgram(image.insns, image.aux), this.options.checked ?? !image.verified);
  }
}

loadedEngines.interpreter = () => new Interpreter();

class RunEnv implements ExecEnv {
  constructor(
    private readonly st: RunState,
    readonly space: ExecEnv['space'],
  ) {}
  get cpu(): number {
    return this.st.cpu;
  }
  get run(): unknown {
    return this.st.runArg;
  }
  /** the probe domain of the program running now (a tail call may have moved to another) */
  get owner(): object | undefined {
    return (this.st.cur?.exe ?? this.st).image.owner;
  }
  callFunc(insnIndex: number, args: readonly bigint[]): bigint {
    return callFunc(this.st, exec, insnIndex, args);
  }
}

export class InterpExecutable implements Executable, InterpTarget {
  /** Idle run states; more than one only after re-entrant runs. */
  private readonly pool: RunState[] = [];

  constructor(
    readonly image: ProgramImage,
    readonly decoded: DecodedProgram,
    readonly checked: boolean,
  ) {}

  private closed = false;

  /** Runs after close() throw EBADF (the interpreter holds no memory between runs: stacks are the space's pool). */
  close(): void {
    this.closed = true;
    this.pool.length = 0;
  }
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal A run state with its stack, from the pool. */
  acquire(args: RunArgs): RunState {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.image.name} is closed`);
    const st =
      this.pool.pop() ??
      new RunState(this.image.space, this.image.helpers, this.image, this.checked, this.image.stackSize ?? MAX_BPF_STACK);
    if (st.env === undefined) st.env = new RunEnv(st, this.image.space);
    st.attachStack();
    const budget = args.budget ?? (this.image.verified ? Number.MAX_SAFE_INTEGER : DEFAULT_UNVERIFIED_BUDGET);
    if (!(budget >= 0)) throw new TsbpfError('EINVAL', `invalid instruction budget ${budget}`);
    const deadline = args.deadline ?? this.image.deadline;
    st.limit(budget, deadline && checkDeadline(deadline));
    st.tailCalls = args.tailCalls ?? 0;
    st.cpu = args.cpu ?? 0;
    st.runArg = args.run;
    st.cur = undefined;
    st.refreshViews();
    return st;
  }

  /** @internal */
  releaseState(st: RunState): void {
    st.detachStack();
    st.runArg = undefined;
    st.cur = undefined;
    this.pool.push(st);
  }

  /** @internal The entry activation: r1..r5 from args, r10 the top of frame 0. */
  entry(st: RunState, args: RunArgs, pausable: boolean, prog: DecodedProgram = this.decoded): Activation {
    // A debugger keeps its activation; a plain run reuses the state's register file.
    let R: Int32Array;
    if (pausable) R = new Int32Array(REG_WORDS);
    else {
      R = st.entryR;
      R.fill(0);
    }
    const a = args.args;
    if (a !== undefined) {
      for (let i = 0; i < 5 && i < a.length; i++) {
        const v = a[i]!;
        if (v >= 0n && v <= 0xffffffffn) R[2 + 2 * i] = Number(v); // the common case: a 32-bit address or a small value
        else {
          const u = BigInt.asUintN(64, v);
          R[2 + 2 * i] = Number(BigInt.asIntN(32, u));
          R[3 + 2 * i] = Number(BigInt.asIntN(32, u >> 32n));
        }
      }
    }
    R[20] = st.stackTop(0);
    if (pausable) return new Activation(prog, this, R, 0, 0, true);
    // A plain run reuses its state's entry activation (a state serves one run
    // at a time; a nested run takes another state from the pool).
    const act = st.entryAct;
    if (act === undefined) return (st.entryAct = new Activation(prog, this, R, 0, 0, false));
    act.prog = prog;
    act.exe = this;
    act.pc = 0;
    act.mayGoto = BPF_MAX_LOOPS; // may_goto's budget is per invocation
    act.depth = 0;
    return act;
  }

  /** Instructions executed by the last run that ended (for profiling and benchmarks). */
  lastInsnCount = 0;

  run(args: RunArgs = {}): bigint {
    const st = this.acquire(args);
    const space = this.image.space;
    space.enterRun();
    try {
      const act = this.entry(st, args, false);
      const status = exec(st, act);
      if (status !== EXIT) throw new UnsupportedInsn(act.pc, 'program stopped without exiting');
      return regU64(act.R, 0);
    } finally {
      this.lastInsnCount = st.budget - st.left - st.reserve;
      this.releaseState(st);
      space.exitRun();
    }
  }
}
