/**
 * The JIT engine: eBPF programs compiled to WebAssembly (compile.ts) and run
 * over the runtime's address space.
 *
 * One module per program, instantiated with the runtime's memory, the
 * program's helpers as imports, and four runtime services (fault, tail,
 * callx, ldpkt). The checked variant (instruction budget, address checks) is
 * compiled on first use, when a run has a budget (always, for unverified
 * images, as in the interpreter), so verified programs never pay for it.
 *
 * Tail calls (bpf_tail_call, helper 12) use a trampoline: the wasm code of
 * the caller returns all the way out (a global flag makes every frame return
 * at once), and the loop in {@link JitExecutable.run} starts the target with
 * the same ctx. Cost: one JS<->wasm round trip per tail call (about 100 ns
 * on Node 20) instead of a jump; the count of 33 (MAX_TAIL_CALL_CNT) is
 * shared across the chain as in the kernel.
 */
import { probeTable } from '../../memory/probe-mem.js';
import { HELPER_TAIL_CALL } from '../../uapi/helper-ids.js';
import { validateProgram } from '../../isa/validate.js';
import { TsbpfError } from '../../errors.js';
import { MAX_CALL_FRAMES, MAX_TAIL_CALL_CNT, sizeBytes, sizeOf } from '../../isa/opcodes.js';
import { NULL_GUARD, type AddressSpace, type Region } from '../../memory/address-space.js';
import { checkDeadline, DEADLINE_SLICE, loadedEngines, type Engine, type Executable, type ProgramImage, type RunArgs, type RunDeadline } from '../engine.js';
import { fn32Signed, type ExecEnv, type HelperFn, type HelperImport32 } from '../helper-abi.js';
import {
  BudgetExceeded,
  CallDepthExceeded,
  ExecError,
  HelperError,
  RunDeadlineExceeded,
  UnknownHelper,
  UnsupportedInsn,
  VmFault,
} from '../fault.js';
import { compileProgram, type CompiledModule, type HelperInliner } from './compile.js';
import { FaultKind } from './layout.js';
import type { OutlineLimits } from './outline.js';
import { defaultInliners } from './inline.js';
import { nowMs } from '../../clock.js';

export interface JitOptions {
  /**
   * Helpers compiled inline instead of called through an import, by helper
   * id. Defaults to {@link defaultInliners} of the image's space; pass an
   * empty map to call every helper.
   */
  inliners?: ReadonlyMap<number, HelperInliner>;
  /** keep which eBPF instruction each piece of WebAssembly comes from (CompiledFunction.marks), for printWat */
  marks?: boolean;
  /** when large functions are split into regions (CompileOptions.outline); the defaults suit V8 */
  outline?: OutlineLimits;
}

/** Module size up to which prepareAsync still compiles synchronously (Chromium refuses more on a main thread: 4 KB on Android and in older versions). */
const SYNC_COMPILE_MAX = 4096;

/** RunArgs.budget of unverified images when none is given (engine.ts; the interpreter's default too). */
export const DEFAULT_UNVERIFIED_BUDGET = 1e9;

const U64 = 1n << 64n;
const NO_ARGS: readonly bigint[] = [];
/** WebAssembly hands i64 values to JS as signed BigInts; helpers take unsigned ones. */
const u64 = (v: bigint): bigint => (v < 0n ? v + U64 : v);

/**
 * The memory access trapped inside WebAssembly. The trap does not say which
 * instruction faulted (the JIT keeps no per-access bookkeeping, so that
 * verified programs run at full speed); the interpreter reports the exact
 * instruction and address for the same program.
 */
export class JitMemoryFault extends VmFault {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(-1, 0n, 0, 'read', undefined, reason);
    this.message = `invalid memory access in JIT-compiled code: ${reason}`;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export class JitEngine implements Engine {
  readonly kind = 'jit' as const;
  constructor(private readonly options: JitOptions = {}) {}
  prepare(image: ProgramImage): JitExecutable {
    return new JitExecutable(image, this.options);
  }
  /**
   * prepare() with the WebAssembly compiled and instantiated asynchronously.
   * Browsers refuse synchronous compilation of large modules on their main
   * thread (Chromium: over 8 MB on desktop, over 4 KB on Android and in
   * older versions), and a long compile should not block an event loop.
   */
  prepareAsync(image: ProgramImage): Promise<JitExecutable> {
    return JitExecutable.create(image, this.options);
  }
}

loadedEngines.jit = () => new JitEngine();

interface Instance {
  readonly compiled: CompiledModule;
  /** (the deadline variant takes the first slice of fuel as an eighth argument) */
  readonly entry: (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, sp: number, cpu: number, fuel?: number) => bigint;
  readonly ctxEntry: CtxEntry;
  /** compile.ts `repeat` (the plain variant of a program that takes no tail call) */
  readonly repeat: RepeatEntry | undefined;
  readonly funcs: ReadonlyMap<number, (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint>;
  readonly sp: WebAssembly.Global;
  readonly tail: WebAssembly.Global;
  readonly cpu: WebAssembly.Global;
  readonly budget: WebAssembly.Global | undefined;
  readonly fuel: WebAssembly.Global | undefined;
}

/** The module's i32 entry (compile.ts `runctx`): r1 = ctx, r2..r5 = 0, r0's low 32 bits. */
type CtxEntry = (ctx: number, sp: number, cpu: number, fuel?: number) => number;
/** The module's test-run loop (compile.ts `repeat`): runctx `n` times inside WebAssembly. */
type RepeatEntry = (ctx: number, sp: number, cpu: number, n: number) => number;

/**
 * State of one run, shared along a chain of tail calls. An executable keeps
 * one for reuse (runs are not re-entrant in the common case), so a run
 * allocates nothing but its result.
 */
class RunState {
  tailCount = 0;
  pending: Executable | undefined;
  pendingCtx = 0n;
  budgetLeft = 0;
  cpu = 0;
  run: unknown;
  budget: number | undefined;
  /** the run's deadline, and what is left of its instructions beyond the slice in the fuel global */
  deadline: RunDeadline | undefined;
  fuelLeft = 0;
  /** when the deadline's clock started (0: at the first refill) */
  clockStart = 0;
  inst!: Instance;
  /** what enter() replaced, put back by leave() (a state is in one run at a time: the slots are its own) */
  savedCur: RunState | undefined;
  savedInst: Instance | undefined;
  readonly env: { space: AddressSpace; cpu: number; run: unknown; owner: object | undefined; callFunc: ExecEnv['callFunc'] };
  savedOwner: object | undefined;
  constructor(exe: JitExecutable) {
    const state = this;
    this.env = {
      space: exe.image.space,
      cpu: 0,
      run: undefined,
      owner: exe.image.owner,
      callFunc(insnIndex: number, args: readonly bigint[]): bigint {
        const inst = state.inst;
        const f = inst.funcs.get(insnIndex);
        if (!f) throw new UnsupportedInsn(-1, `callback target ${insnIndex} is not the start of a bpf function`);
        if ((inst.sp.value as number) < exe.stackLimit) throw new CallDepthExceeded(-1, MAX_CALL_FRAMES + 1);
        // The callback's frame goes below the current innermost one (sp is live in the instance).
        return u64(f(args[0] ?? 0n, args[1] ?? 0n, args[2] ?? 0n, args[3] ?? 0n, args[4] ?? 0n));
      },
    };
  }
  reset(cpu: number, run: unknown, budget: number | undefined, deadline?: RunDeadline): this {
    this.startDeadline(deadline);
    this.tailCount = 0;
    this.pending = undefined;
    this.cpu = cpu;
    this.run = run;
    this.budget = budget;
    this.budgetLeft = budget ?? 0;
    this.env.cpu = cpu;
    this.env.run = run;
    return this;
  }

  startDeadline(deadline: RunDeadline | undefined): void {
    this.deadline = deadline;
    this.fuelLeft = deadline?.instructions ?? Infinity;
    this.clockStart = 0;
  }

  /** The next slice of fuel for an instance's global. */
  takeFuel(): number {
    const g = Math.min(DEADLINE_SLICE, this.fuelLeft);
    this.fuelLeft -= g;
    return g;
  }

  /**
   * e.refuel: the slice in the fuel global is spent (`fuel` < 0 by the charge
   * that spent it). Stop the run when its instructions or its time are up,
   * else hand out another slice.
   */
  refuel(pc: number, fuel: number): number {
    const d = this.deadline!;
    let f = fuel;
    while (f < 0) {
      if (this.fuelLeft <= 0) throw new RunDeadlineExceeded(pc, 'instructions', d);
      f += this.takeFuel();
    }
    if (d.ms !== undefined) {
      const now = nowMs();
      if (this.clockStart === 0) this.clockStart = now;
      else if (now - this.clockStart >= d.ms) throw new RunDeadlineExceeded(pc, 'time', d);
    }
    return f;
  }
}

export class JitExecutable implements Executable {
  readonly image: ProgramImage;
  /** the module without instruction accounting */
  readonly compiled: CompiledModule;
  /** nanoseconds spent compiling and instantiating the plain variant */
  readonly compileNs: number;
  private readonly stackSize: number;
  private readonly stackBase: number;
  /** @internal sp below which no further frame fits */
  readonly stackLimit: number;
  private readonly stackTop: number;
  private readonly stackRegion: Region;
  private readonly plain: Instance;
  private budgeted: Instance | undefined;
  /** the deadline variants (fuel checks), without and with the budget's checks */
  private fueled: Instance | undefined;
  private fueledBudgeted: Instance | undefined;
  /** the run currently inside this executable's code (innermost, for nested runs) */
  private cur: RunState | undefined;
  private active = 0;
  /** a run state for the next run, when none is in progress */
  private spare: RunState | undefined;

  /**
   * An executable whose modules are compiled with WebAssembly.instantiate
   * (JitEngine.prepareAsync): the same module, never compiled synchronously.
   */
  static async create(image: ProgramImage, options: JitOptions = {}): Promise<JitExecutable> {
    const t0 = nowMs();
    const exe = new JitExecutable(image, options, true);
    try {
      const plain = await exe.instantiateAsync(false);
      // readonly for everyone else: only this factory fills them in, once, after the async instantiation
      const self = exe as unknown as { plain: Instance; compiled: CompiledModule; compileNs: number };
      self.plain = plain;
      self.compiled = plain.compiled;
      // Unverified images always run with a budget: compile that variant now too.
      if (!image.verified) exe.budgeted = await exe.instantiateAsync(true);
      // A runtime-wide deadline: every run takes the deadline variant.
      if (image.deadline) {
        if (image.verified) exe.fueled = await exe.instantiateAsync(false, true);
        else exe.fueledBudgeted = await exe.instantiateAsync(true, true);
      }
      self.compileNs = Math.round((nowMs() - t0) * 1e6);
    } catch (e) {
      exe.close();
      throw e;
    }
    return exe;
  }

  constructor(
    image: ProgramImage,
    private readonly options: JitOptions = {},
    /** @internal set by create(): the modules are instantiated asynchronously, after construction */
    deferred = false,
  ) {
    const t0 = nowMs();
    this.image = image;
    validateProgram(image.insns);
    const space = image.space;
    this.stackSize = image.stackSize ?? 512;
    // Eight frames (MAX_CALL_FRAMES), allocated once per executable.
    const total = this.stackSize * MAX_CALL_FRAMES;
    this.stackBase = space.alloc(total, 16);
    this.stackTop = this.stackBase + total;
    this.stackLimit = this.stackBase + this.stackSize;
    this.stackRegion = space.addRegion({
      base: this.stackBase,
      size: total,
      kind: 'stack',
      name: `${image.name || 'prog'} stack`,
      writable: true,
      ...(image.owner ? { owner: image.owner } : {}),
    });
    try {
      // (create() fills these in when deferred: until then the executable does not run)
      // deferred: a placeholder that create() replaces before the executable can run
      this.plain = deferred ? (undefined as unknown as Instance) : this.instantiate(false);
    } catch (e) {
      this.close();
      throw e;
    }
    this.compiled = this.plain?.compiled;
    this.compileNs = Math.round((nowMs() - t0) * 1e6);
  }

  private closed = false;

  /**
   * Release the stack frames. Later runs throw EBADF rather than run on
   * frames the allocator may have handed to someone else (a map's values).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.spare = undefined;
    this.image.space.removeRegion(this.stackRegion);
    // After the grace period: a run still in flight (this program's, nested) keeps its frames until it ends.
    this.image.space.retire(this.stackBase);
  }
  [Symbol.dispose](): void {
    this.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new TsbpfError('EBADF', `program ${this.image.name} is closed`);
  }

  run(args: RunArgs = {}): bigint {
    this.checkOpen();
    // As the interpreter: unverified programs get a budget unless told otherwise.
    const budget = args.budget ?? (this.image.verified ? undefined : DEFAULT_UNVERIFIED_BUDGET);
    if (budget !== undefined && !(budget >= 0)) throw new UnsupportedInsn(-1, `invalid budget ${budget}`);
    let state = this.spare;
    if (state) this.spare = undefined;
    else state = new RunState(this);
    const deadline = args.deadline ?? this.image.deadline;
    state.reset(args.cpu ?? 0, args.run, budget, deadline && checkDeadline(deadline));
    if (args.tailCalls !== undefined) state.tailCount = args.tailCalls;
    const space = this.image.space;
    space.enterRun();
    try {
      return this.runWith(state, args.args ?? NO_ARGS);
    } finally {
      state.reset(0, undefined, undefined);
      this.spare = state;
      space.exitRun();
    }
  }

  /**
   * The hooks' entry (Executable.runCtx): r1 = ctx, r2..r5 = 0, no budget for
   * a verified program; r0's low 32 bits as a signed int. The common case (a
   * verified program not already running) calls the module's i32 entry with
   * the kept run state: no RunArgs, no BigInt, and the state's cpu/run are
   * only rewritten when they change (a hook passes the same ones every event).
   */
  runCtx(ctx: number, cpu: number, run: unknown): number {
    const state = this.spare;
    if (state === undefined || !this.image.verified) return Number(BigInt.asIntN(32, this.run({ args: [BigInt(ctx)], cpu, run })));
    this.spare = undefined;
    if (state.run !== run || state.cpu !== cpu) {
      state.cpu = cpu;
      state.run = run;
      state.env.cpu = cpu;
      state.env.run = run;
    }
    const deadline = this.image.deadline;
    if (deadline !== undefined) state.startDeadline(deadline);
    const space = this.image.space;
    space.enterRun();
    try {
      if (this.active > 0) {
        // Nested in a run of this program: the general entry (it keeps the outer frames).
        const r = this.invoke(state, BigInt(ctx), 0n, 0n, 0n, 0n);
        return Number(BigInt.asIntN(32, state.pending === undefined ? r : this.trampoline(state, r)));
      }
      const inst = deadline === undefined ? this.plain : this.variant(false, true);
      this.enter(state, inst);
      let r: number;
      try {
        r = inst.fuel ? inst.ctxEntry(ctx, this.stackTop, cpu, state.takeFuel()) : inst.ctxEntry(ctx, this.stackTop, cpu);
      } catch (e) {
        throw translateError(e);
      } finally {
        this.leave(state);
        // Unspent fuel goes back only when a tail call follows (the run ends otherwise).
        if (inst.fuel && state.pending !== undefined) state.fuelLeft += Math.max(0, inst.fuel.value as number);
      }
      // A tail call replaces r0 with its target's (the trampoline never reads the first r0).
      return state.pending === undefined ? r : Number(BigInt.asIntN(32, this.trampoline(state, 0n)));
    } finally {
      // run and cpu stay (the next event likely brings the same); the chain's state is reset.
      state.tailCount = 0;
      state.pending = undefined;
      state.deadline = undefined;
      this.spare = state;
      space.exitRun();
    }
  }

  /**
   * Executable.runRepeat: `n` runs of runCtx in one call into WebAssembly
   * (the loop of the kernel's bpf_test_run), r0's low 32 bits of the last.
   * Only for a verified program without a deadline, not already running,
   * that cannot take a tail call: undefined otherwise, and the caller loops.
   */
  runRepeat(ctx: number, cpu: number, run: unknown, n: number): number | undefined {
    this.checkOpen();
    const inst = this.plain;
    if (!this.image.verified || this.image.deadline !== undefined || this.active > 0 || inst.repeat === undefined) return undefined;
    if (!(Number.isInteger(n) && n >= 1 && n <= 0xffffffff)) throw new UnsupportedInsn(-1, `invalid repeat ${n}`);
    const state = this.spare ?? new RunState(this);
    this.spare = undefined;
    state.reset(cpu, run, undefined);
    const space = this.image.space;
    space.enterRun();
    this.enter(state, inst);
    try {
      // (the wasm loop counts an i32 down to 0: up to 2^32 - 1 passes as its bit pattern)
      return inst.repeat(ctx, this.stackTop, cpu, n | 0);
    } catch (e) {
      throw translateError(e);
    } finally {
      this.leave(state);
      state.reset(0, undefined, undefined);
      this.spare = state;
      space.exitRun();
    }
  }

  /** Make `state` the innermost run of this executable, in `inst` (undone by leave; nests). */
  private enter(state: RunState, inst: Instance): void {
    state.savedCur = this.cur;
    state.savedInst = state.inst;
    state.savedOwner = state.env.owner;
    this.cur = state;
    state.inst = inst;
    // A tail call into another collection's program runs with that program's probe domain.
    state.env.owner = this.image.owner;
    this.active++;
  }

  private leave(state: RunState): void {
    this.active--;
    this.cur = state.savedCur;
    state.inst = state.savedInst!;
    state.env.owner = state.savedOwner;
    state.savedCur = undefined;
  }

  private runWith(state: RunState, a: readonly bigint[]): bigint {
    return this.trampoline(state, this.invoke(state, a[0] ?? 0n, a[1] ?? 0n, a[2] ?? 0n, a[3] ?? 0n, a[4] ?? 0n));
  }

  private trampoline(state: RunState, r: bigint): bigint {
    // The tail-call trampoline.
    while (state.pending !== undefined) {
      const target = state.pending;
      state.pending = undefined;
      if (target instanceof JitExecutable) r = target.invoke(state, state.pendingCtx, 0n, 0n, 0n, 0n);
      else {
        // Another engine: its own run, with what is left of the budget and the chain's tail-call count.
        const rest: RunArgs = { args: [state.pendingCtx], cpu: state.cpu, run: state.run, tailCalls: state.tailCount };
        if (state.budget !== undefined) rest.budget = state.budgetLeft;
        if (state.deadline !== undefined) rest.deadline = state.deadline;
        return target.run(rest);
      }
    }
    return u64(r);
  }

  private invoke(state: RunState, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
    const inst = this.variant(state.budget !== undefined, state.deadline !== undefined);
    const prevCur = this.cur;
    // A nested run (a helper running this program again) continues below the
    // live frames; wasm restores sp itself on every return.
    // The outer run may be in the other variant's instance: take sp from the
    // instance it runs in, and give back the globals it had (slow path only).
    const outer = this.active > 0 ? prevCur?.inst : undefined;
    const sp = outer ? (outer.sp.value as number) : this.stackTop;
    const saved = outer
      ? { sp, cpu: inst.cpu.value as number, budget: inst.budget?.value as bigint | undefined, fuel: inst.fuel?.value as number | undefined }
      : undefined;
    this.enter(state, inst);
    if (inst.budget) inst.budget.value = BigInt(Math.floor(state.budgetLeft));
    try {
      return inst.fuel ? inst.entry(r1, r2, r3, r4, r5, sp, state.cpu, state.takeFuel()) : inst.entry(r1, r2, r3, r4, r5, sp, state.cpu);
    } catch (e) {
      throw translateError(e);
    } finally {
      this.leave(state);
      if (inst.budget) state.budgetLeft = Number(inst.budget.value);
      // Unspent fuel goes back when a tail call or an outer run continues (a run that ends needs no count).
      if (inst.fuel && (state.pending !== undefined || saved)) state.fuelLeft += Math.max(0, inst.fuel.value as number);
      if (saved) {
        inst.sp.value = saved.sp;
        outer!.sp.value = saved.sp;
        inst.cpu.value = saved.cpu;
        if (inst.budget && saved.budget !== undefined) inst.budget.value = saved.budget;
        if (inst.fuel && saved.fuel !== undefined) inst.fuel.value = saved.fuel;
      }
    }
  }

  /** The instance for a run with (or without) a budget and a deadline, compiled on first use. */
  private variant(budget: boolean, fuel: boolean): Instance {
    if (!fuel) return budget ? (this.budgeted ??= this.instantiate(true)) : this.plain;
    return budget ? (this.fueledBudgeted ??= this.instantiate(true, true)) : (this.fueled ??= this.instantiate(false, true));
  }

  private instantiate(budget: boolean, fuel = false): Instance {
    const { compiled, imports, finish } = this.link(budget, fuel);
    return finish(new WebAssembly.Instance(new WebAssembly.Module(compiled.bytes as BufferSource), imports));
  }

  private async instantiateAsync(budget: boolean, fuel = false): Promise<Instance> {
    const { compiled, imports, finish } = this.link(budget, fuel);
    // Up to 4 KB (Chromium's smallest main-thread limit) every host compiles
    // synchronously, and that skips the async round trip (about 0.15 ms per
    // program on Node 20).
    if (compiled.bytes.length <= SYNC_COMPILE_MAX) return finish(new WebAssembly.Instance(new WebAssembly.Module(compiled.bytes as BufferSource), imports));
    const { instance } = await WebAssembly.instantiate(compiled.bytes as BufferSource, imports);
    return finish(instance);
  }

  /** The module's bytes and imports, and how to wrap its instance (the compile step is the caller's). */
  private link(budget: boolean, fuel = false): { compiled: CompiledModule; imports: WebAssembly.Imports; finish: (instance: WebAssembly.Instance) => Instance } {
    const { image } = this;
    const space = image.space;
    const mem = space.memory;
    const compiled = compileProgram(image.insns, {
      shared: space.shared,
      budget,
      fuel,
      stackSize: this.stackSize,
      stackBase: this.stackBase,
      memMinPages: 0,
      memMaxPages: space.shared ? 65536 : undefined,
      aux: image.aux,
      ...(image.aux?.some((a) => a?.probeMem) ? { probeTable: probeTable(space).addr } : {}),
      inliners: this.options.inliners ?? defaultInliners(space, !budget),
      marks: this.options.marks === true,
      ...(this.options.outline ? { outline: this.options.outline } : {}),
      fast32: (id) => {
        const def = image.helpers.get(id);
        return def?.fn32 ? { arity: def.proto.args.length, signed: fn32Signed(def) } : undefined;
      },
    });
    const self = this;
    const st = (): RunState => self.cur!;
    const helpers: Record<string, unknown> = {};
    for (const id of compiled.helperIds) {
      const def = image.helpers.get(id);
      if (!def) {
        helpers[String(id)] = (pc: number): bigint => {
          throw new UnknownHelper(pc, id);
        };
        continue;
      }
      const fn: HelperFn = def.fn;
      const name = def.name;
      helpers[String(id)] = (pc: number, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint): bigint => {
        try {
          return fn(st().env, u64(a), u64(b), u64(c), u64(d), u64(e));
        } catch (err) {
          throw err instanceof ExecError ? err : new HelperError(pc, id, name, err);
        }
      };
    }
    for (const id of compiled.fast32Ids) {
      const def = image.helpers.get(id)!;
      const fn32 = def.fn32!;
      const name = def.name;
      // The i32 values arrive signed: >>> 0 gives the unsigned register values HelperFn32 takes.
      const js = (pc: number, a: number, b: number, c: number, d: number, e: number): number => {
        try {
          return fn32(st().env, a >>> 0, b >>> 0, c >>> 0, d >>> 0, e >>> 0);
        } catch (err) {
          throw err instanceof ExecError ? err : new HelperError(pc, id, name, err);
        }
      };
      // Verified programs (not the checked variant) may take the helper's WebAssembly form (HelperDef.wasm32).
      helpers[`${id}_32`] = !budget && def.wasm32 ? def.wasm32(mem, space.shared, js as HelperImport32, () => st().env) : js;
    }
    let exports: WebAssembly.Exports | undefined;
    const env = {
      mem,
      fault(kind: number, pc: number, arg: bigint): never {
        switch (kind as FaultKind) {
          case FaultKind.CallDepth:
            throw new CallDepthExceeded(pc, MAX_CALL_FRAMES + 1);
          case FaultKind.Budget:
            throw new BudgetExceeded(pc, st().budget ?? 0);
          case FaultKind.UnknownHelper:
            throw new UnknownHelper(pc, Number(arg));
          case FaultKind.Memory: {
            const ins = image.insns[pc]!;
            const cls = ins.code & 7;
            const write = cls === 2 || (cls === 3 && !(ins.code & 0xe0 && ins.imm === 0x100));
            const address = u64(arg);
            const a = Number(address & 0xffffffffn);
            throw new VmFault(
              pc,
              address,
              sizeBytes(sizeOf(ins.code)),
              write ? 'write' : 'read',
              address < 0x100000000n ? space.regionOf(a) ?? space.nearestRegion(a) : undefined,
              address < NULL_GUARD ? 'NULL pointer dereference' : 'outside the address space',
            );
          }
          default:
            throw new UnsupportedInsn(
              pc,
              arg === 1n ? 'legacy packet access (LD_ABS/LD_IND) is not supported' : 'kfunc calls are not supported',
            );
        }
      },
      tail: (_pc: number, ctx: bigint, map: bigint, index: bigint): number => {
        const s = st();
        // Kernel order (bpf_tail_call in the JITs): index range, then the
        // count, then an empty slot; any failure falls through.
        const idx = Number(u64(index) & 0xffffffffn);
        if (s.tailCount >= MAX_TAIL_CALL_CNT) return 0;
        const target = image.tailCallTarget?.(Number(u64(map) & 0xffffffffn), idx);
        if (!target) return 0;
        s.tailCount++;
        s.pending = target;
        s.pendingCtx = u64(ctx);
        return 1;
      },
      ldpkt: (_pc: number, ctx: bigint, off: number, size: number): bigint => legacyPacketLoad(space, st().run, u64(ctx), off, size),
      refuel: (pc: number, f: number): number => st().refuel(pc, f),
      callx: (pc: number, id: bigint, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint): bigint => {
        const hid = u64(id);
        if (hid === BigInt(HELPER_TAIL_CALL)) {
          if (env.tail(pc, a, b, c) === 1) (exports!['tail'] as WebAssembly.Global).value = 1;
          return 0n;
        }
        const def = hid < 0x80000000n ? image.helpers.get(Number(hid)) : undefined;
        if (!def) throw new UnknownHelper(pc, Number(BigInt.asIntN(32, hid)));
        try {
          return def.fn(st().env, u64(a), u64(b), u64(c), u64(d), u64(e));
        } catch (err) {
          throw err instanceof ExecError ? err : new HelperError(pc, def.id, def.name, err);
        }
      },
    };
    const imports = { e: env, h: helpers } as WebAssembly.Imports;
    const finish = (instance: WebAssembly.Instance): Instance => {
      exports = instance.exports;
      type F = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint;
      const funcs = new Map<number, F>();
      for (const f of compiled.functions) funcs.set(f.entry, exports[f.name] as F);
      return {
        compiled,
        entry: exports['run'] as Instance['entry'],
        ctxEntry: exports['runctx'] as CtxEntry,
        repeat: compiled.hasRepeat ? (exports['repeat'] as RepeatEntry) : undefined,
        funcs,
        sp: exports['sp'] as WebAssembly.Global,
        tail: exports['tail'] as WebAssembly.Global,
        cpu: exports['cpu'] as WebAssembly.Global,
        budget: budget ? (exports['budget'] as WebAssembly.Global) : undefined,
        fuel: fuel ? (exports['fuel'] as WebAssembly.Global) : undefined,
      };
    };
    return { compiled, imports, finish };
  }
}

function translateError(e: unknown): unknown {
  if (e instanceof ExecError) return e;
  if (e instanceof WebAssembly.RuntimeError) {
    // Out-of-bounds (outside the address space) or a misaligned atomic.
    return new JitMemoryFault(e.message, { cause: e });
  }
  return e;
}

/** What a runtime puts in RunArgs.run to say where LD_ABS/LD_IND find the packet (as the interpreter). */
interface LegacyPacketSource {
  legacyPacket(ctx: bigint): { data: number; len: number } | undefined;
}

/**
 * The packet load of LD_ABS/LD_IND: big-endian `size` bytes at `off` into
 * the packet, or -1 when out of bounds. The packet comes from the run's
 * `legacyPacket` hook, or else is the memory r6 points at up to the end of
 * its region (as in the interpreter).
 */
function legacyPacketLoad(space: AddressSpace, run: unknown, ctx: bigint, off: number, size: number): bigint {
  const hook = run as Partial<LegacyPacketSource> | undefined;
  let pkt: { data: number; len: number } | undefined;
  if (hook && typeof hook.legacyPacket === 'function') pkt = hook.legacyPacket(ctx);
  else if (ctx < 0x100000000n) {
    const data = Number(ctx);
    const r = space.regionOf(data, 1);
    if (r) pkt = { data, len: r.base + r.size - data };
  }
  if (!pkt || off < 0 || off + size > pkt.len) return -1n;
  const a = pkt.data + off;
  if (a + size > space.size) return -1n;
  const dv = space.view;
  return BigInt(size === 4 ? dv.getUint32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a));
}
