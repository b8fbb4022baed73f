/**
 * Tiered execution: a program runs on the interpreter first and on the JIT
 * from its (after + 1)-th run on, the way V8 itself runs JavaScript and
 * WebAssembly (Ignition before TurboFan, Liftoff before TurboFan).
 *
 * Why: the JIT's compile (tsbpf's front end, then V8's validation and
 * Liftoff) costs about 0.5 µs per instruction, several times the
 * interpreter's preparation (a decode), so a program that runs a few times,
 * or whose first run should come soon after it was loaded, is better off
 * interpreted (BENCHMARKS.md "Compile time": time to first run). A program
 * that keeps running pays the compile once, at the first run after `after`
 * runs, and runs on the JIT from then on.
 *
 * The switch happens only between runs of the program: never while a run
 * of it is in progress (a helper running the program again, a hook event
 * inside another). A tail call into a tiered program counts as one of its
 * runs and goes to its current tier, so a chain of tail calls may cross
 * tiers; the engines then carry the chain's budget, deadline and tail-call
 * count across (RunArgs.tailCalls). Both tiers run the same program over the
 * same address space and maps and give the same results
 * (test/vm-tiered.test.ts); each owns its stack frames, and the
 * interpreter's stays usable after the switch. If the JIT cannot compile
 * the program, it stays on the interpreter (the error is in
 * {@link TieredExecutable.tierUpError}). A JIT engine that cannot prepare
 * synchronously yet (`Engine.ready` false: the runtime's, in a process that
 * has not imported the JIT's module, such as the CLI) is loaded when a
 * program tiers up, as with `background`: the switch comes at the first run
 * after it is ready, and a program that never tiers up never loads it.
 */
import { TsbpfError } from '../errors.js';
import type { Engine, Executable, ProgramImage, RunArgs } from './engine.js';

export interface TieredOptions {
  /** runs on the interpreter before the JIT compiles the program (default {@link DEFAULT_TIER_UP_RUNS}; 0: compile at the first run) */
  after?: number;
  /**
   * Compile with the JIT engine's prepareAsync (WebAssembly.instantiate),
   * where it has one, and keep running on the interpreter until that is
   * done: browsers refuse to compile large modules synchronously on their
   * main thread. The switch comes at the first run after the compile ends.
   * (In Node the front end still runs in the run that starts it; V8's
   * validation moves off the thread.)
   */
  background?: boolean;
}

/**
 * Runs on the interpreter by default: at about 0.5 µs of compile per
 * instruction against 1-5 ns per instruction executed in the interpreter
 * and well under 1 ns on the JIT, a program whose runs execute about as
 * many instructions as it has pays for its compile after some 100-500 runs;
 * 64 tiers up a little early, as a hook's program runs thousands of times.
 */
export const DEFAULT_TIER_UP_RUNS = 64;

export class TieredEngine implements Engine {
  /** the executables end up on the JIT (prog_array compatibility: a jited program) */
  readonly kind = 'jit' as const;
  private readonly after: number;
  private readonly background: boolean;
  constructor(
    private readonly interpreter: Engine,
    private readonly jit: Engine,
    options: TieredOptions = {},
  ) {
    const after = options.after ?? DEFAULT_TIER_UP_RUNS;
    if (!(Number.isSafeInteger(after) && after >= 0)) throw new TsbpfError('EINVAL', `invalid tier-up run count: ${after}`);
    this.after = after;
    this.background = options.background === true;
  }

  prepare(image: ProgramImage): TieredExecutable {
    const inner = tierImage(image);
    return new TieredExecutable(inner, this.interpreter.prepare(inner), this.jit, this.after, this.background);
  }

  /** The interpreter's executable, prepared asynchronously where its engine can (the runtime's lazily loaded interpreter). */
  async prepareAsync(image: ProgramImage): Promise<TieredExecutable> {
    const inner = tierImage(image);
    const first = this.interpreter.prepareAsync ? await this.interpreter.prepareAsync(inner) : this.interpreter.prepare(inner);
    return new TieredExecutable(inner, first, this.jit, this.after, this.background);
  }
}

/**
 * The image both tiers are prepared from: a tail call to a tiered program
 * goes to that program's current tier, so that a chain within one tier stays
 * inside its engine (the JIT's trampoline, the interpreter's loop) and only
 * a chain across tiers takes the engines' foreign path (which carries the
 * chain's tail-call count, RunArgs.tailCalls).
 */
function tierImage(image: ProgramImage): ProgramImage {
  const resolve = image.tailCallTarget;
  if (resolve === undefined) return image;
  return {
    ...image,
    tailCallTarget: (mapAddr, index) => {
      const t = resolve(mapAddr, index);
      return t instanceof TieredExecutable ? t.tailEntry() : t;
    },
  };
}

export class TieredExecutable implements Executable {
  /** the executable runs go to: the interpreter's, then the JIT's */
  private cur: Executable;
  private jited: Executable | undefined;
  /** a background compile's executable, taken at the next switch */
  private ready: Executable | undefined;
  /** the background compile in progress or done (TieredOptions.background) */
  private pending: Promise<void> | undefined;
  /** runs started so far (a repeat of n counts n) */
  private runs = 0;
  /** runs of this executable in progress (nested runs included): no switch while any is */
  private active = 0;
  private closed = false;
  /** why the JIT could not compile the program (it then stays on the interpreter) */
  tierUpError: unknown;

  constructor(
    readonly image: ProgramImage,
    private readonly first: Executable,
    private readonly jit: Engine,
    private readonly after: number,
    private readonly background = false,
  ) {
    this.cur = first;
  }

  /** the tier the program is on: 'jit' from the first run that took the JIT on */
  get tier(): 'interpreter' | 'jit' {
    return this.jited !== undefined ? 'jit' : 'interpreter';
  }

  /** @internal A tail call into this program (tierImage): counted as a run; the executable it takes. */
  tailEntry(): Executable {
    return this.closed ? this.cur : this.take(1);
  }

  /** the JIT's compiled module once the program runs there (what `tsbpf prog show` prints), else undefined */
  get compiled(): unknown {
    return (this.jited as { compiled?: unknown } | undefined)?.compiled;
  }

  /** Count `n` runs and return the executable they take, compiling first when they are due for the JIT. */
  private take(n: number): Executable {
    if (this.closed) throw new TsbpfError('EBADF', 'run of a closed program');
    if (this.jited === undefined && this.runs >= this.after && this.active === 0 && this.tierUpError === undefined) this.tierUp();
    this.runs += n;
    return this.cur;
  }

  private tierUp(): void {
    let exe = this.ready;
    if (exe === undefined) {
      // (a JIT whose module is not loaded yet, the runtime's lazy one, compiles in the background
      // too: its import is asynchronous, and one run of a program never loads it)
      if ((this.background || this.jit.ready === false) && this.jit.prepareAsync) {
        this.compileInBackground(this.jit.prepareAsync.bind(this.jit));
        return;
      }
      try {
        exe = this.jit.prepare(this.image);
      } catch (e) {
        this.tierUpError = e;
        return;
      }
    }
    // The interpreter's executable stays open until close(): a chain of tail
    // calls that entered it from another program may still be running in it.
    this.ready = undefined;
    this.jited = exe;
    this.cur = exe;
  }

  private compileInBackground(prepareAsync: (image: ProgramImage) => Promise<Executable>): void {
    this.pending ??= prepareAsync(this.image).then(
      (exe) => {
        if (this.closed) exe.close?.();
        else this.ready = exe;
      },
      (e: unknown) => {
        this.tierUpError = e;
      },
    );
  }

  /** The background compile (TieredOptions.background), once one has started: it settles when the JIT's executable is ready or failed. */
  get compiling(): Promise<void> | undefined {
    return this.pending;
  }

  run(args?: RunArgs): bigint {
    const exe = this.take(1);
    this.active++;
    try {
      return exe.run(args);
    } finally {
      this.active--;
    }
  }

  /** The hook entry: the tier's own where it has one, else a run (link.ts's fallback). */
  runCtx(ctx: number, cpu: number, run: unknown): number {
    const exe = this.take(1);
    this.active++;
    try {
      return exe.runCtx !== undefined ? exe.runCtx(ctx, cpu, run) : Number(BigInt.asIntN(32, exe.run({ args: [BigInt(ctx)], cpu, run })));
    } finally {
      this.active--;
    }
  }

  /** The JIT's test-run loop once the program is there; before, undefined (the caller runs one at a time, each counted). */
  runRepeat(ctx: number, cpu: number, run: unknown, n: number): number | undefined {
    if (this.closed) throw new TsbpfError('EBADF', 'run of a closed program');
    if (this.jited === undefined && (this.runs < this.after || this.active > 0)) return undefined;
    const exe = this.take(n);
    if (exe.runRepeat === undefined) return undefined; // the JIT could not compile: the interpreter, one run at a time
    this.active++;
    try {
      return exe.runRepeat(ctx, cpu, run, n);
    } finally {
      this.active--;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.first.close?.();
    this.jited?.close?.();
    this.ready?.close?.();
  }
}
