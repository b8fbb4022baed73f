/**
 * The state of one program run in the interpreter: budget, call frames, the
 * stack block, cached views of the address space, and the access-check
 * windows. One {@link RunState} per top-level run (pooled by the executable);
 * an {@link Activation} per entry into the dispatch loop (the program itself,
 * or a callback entered through ExecEnv.callFunc).
 */
import { BPF_MAX_LOOPS, MAX_CALL_FRAMES } from '../../isa/opcodes.js';
import type { ExecEnv, HelperRegistry } from '../helper-abi.js';
import type { AddressSpace, Region } from '../../memory/address-space.js';
import { NULL_GUARD } from '../../memory/address-space.js';
import { DEADLINE_SLICE, type Executable, type ProgramImage, type RunDeadline } from '../engine.js';
import { BudgetExceeded, RunDeadlineExceeded } from '../fault.js';
import type { DecodedProgram } from './decode.js';
import type { ProbeTable } from '../../memory/probe-mem.js';
import { nowMs } from '../../clock.js';

/** Registers r0..r10 as lo/hi int32 pairs (room for the 4-bit encodings up to r15). */
export const REG_WORDS = 32;
/** Per frame: r6..r9 (lo/hi), the return slot and the caller's may_goto budget. */
export const FRAME_WORDS = 10;
/** Budget is handed to the dispatch loop in chunks that stay small integers (V8 Smis). */
export const BUDGET_CHUNK = 1 << 30;
/** Unregistered bytes between stack frames, so that in checked mode overruns fault. */
const STACK_GUARD = 512;

/** Executables the dispatch loop can continue into directly on a tail call. */
export interface InterpTarget extends Executable {
  readonly decoded: DecodedProgram;
}

export class Activation {
  pc: number;
  /** current frame depth (0-based, absolute in the run) */
  depth: number;
  /**
   * may_goto's budget: each may_goto falls through while it is non-zero
   * (decrementing it) and jumps once it is zero, as the kernel's hidden
   * stack slot initialised to BPF_MAX_LOOPS per invocation.
   */
  mayGoto = BPF_MAX_LOOPS;
  constructor(
    public prog: DecodedProgram,
    public exe: InterpTarget,
    readonly R: Int32Array,
    /** frame depth this activation started at; exiting it ends the activation */
    readonly base: number,
    pc: number,
    /** a debugger activation: running out of `left` pauses instead of refilling */
    readonly pausable: boolean,
  ) {
    this.pc = pc;
    this.depth = base;
  }
}

/**
 * A block of MAX_CALL_FRAMES stack frames in the address space, with
 * unregistered guard gaps between them. Blocks are pooled per address space
 * and frame size, not per program: runs are sequential on a thread, so a
 * space needs only as many blocks as it has nested (re-entrant) runs, however
 * many programs it holds.
 */
class StackBlock {
  readonly base: number;
  readonly stride: number;
  readonly regions: Region[] = [];
  /** the probe domain of the run that borrowed the block last (its regions' owner) */
  owner: object | undefined;
  constructor(
    readonly space: AddressSpace,
    readonly frameSize: number,
  ) {
    this.stride = frameSize + STACK_GUARD;
    this.base = space.alloc(this.stride * MAX_CALL_FRAMES, 16);
    for (let k = 0; k < MAX_CALL_FRAMES; k++) {
      const top = this.base + (k + 1) * this.stride;
      this.regions.push(space.addRegion({ base: top - frameSize, size: frameSize, kind: 'stack', name: `stack frame ${k}`, writable: true }));
    }
  }
}

const stackPools = new WeakMap<AddressSpace, Map<number, StackBlock[]>>();

/** The pool of idle stack blocks of `frameSize` in `space` (run states keep a reference: one lookup per state, not per run). */
function stackPool(space: AddressSpace, frameSize: number): StackBlock[] {
  let bySize = stackPools.get(space);
  if (bySize === undefined) stackPools.set(space, (bySize = new Map()));
  let pool = bySize.get(frameSize);
  if (pool === undefined) bySize.set(frameSize, (pool = []));
  return pool;
}

export class RunState {
  /** instructions the loop may still execute before consulting `reserve` */
  left = 0;
  /** the rest of the budget */
  reserve = 0;
  /** the budget the run started with (for the error message) */
  budget = 0;
  /** the run's deadline (RunArgs.deadline); `budget` is its instruction limit when byDeadline */
  deadline: RunDeadline | undefined;
  byDeadline = false;
  /** instructions handed to the dispatch loop at a time: a slice when the clock is watched */
  chunk = BUDGET_CHUNK;
  /** when the deadline's clock started (0: not yet; it starts at the second slice) */
  clockStart = 0;
  private sliced = false;
  tailCalls = 0;
  readonly frames = new Int32Array(MAX_CALL_FRAMES * FRAME_WORDS);
  /** the register file of top-level runs, reused from run to run */
  readonly entryR = new Int32Array(REG_WORDS);
  /** innermost running activation (what callFunc nests under) */
  cur: Activation | undefined;
  env!: ExecEnv;
  runArg: unknown = undefined;
  cpu = 0;
  // Views of the address space, rebuilt when it grows.
  buf!: ArrayBufferLike;
  dv!: DataView;
  /** the space's probe-mem table, looked up at the first BPF_PROBE_MEM load */
  probe: ProbeTable | undefined;
  u8!: Uint8Array;
  // Access windows: an access [a, a+size) inside [rLo, rHi) (reads) or
  // [wLo, wHi) (writes) needs no further check. Unchecked mode: the whole
  // space above the NULL guard. Checked mode: the last region that matched.
  rLo = 0;
  rHi = 0;
  wLo = 0;
  wHi = 0;
  /** the stack block of this run (borrowed from the space's pool while running) */
  stack: StackBlock | undefined;
  stackBase = 0;
  stride = 0;
  /** the space's pool of stack blocks of this size */
  private readonly stacks: StackBlock[];
  /** the entry activation of plain (non-debugger) runs, reused from run to run */
  entryAct: Activation | undefined;

  constructor(
    readonly space: AddressSpace,
    readonly helpers: HelperRegistry,
    readonly image: ProgramImage,
    readonly checked: boolean,
    readonly stackSize: number,
  ) {
    this.stacks = stackPool(space, stackSize);
  }

  /** Set the budget and deadline of a new run. */
  limit(budget: number, deadline: RunDeadline | undefined): void {
    this.deadline = deadline;
    this.byDeadline = deadline?.instructions !== undefined && deadline.instructions <= budget;
    if (this.byDeadline) budget = deadline!.instructions!;
    this.budget = budget;
    this.left = 0;
    this.reserve = Math.floor(budget);
    this.chunk = deadline?.ms !== undefined ? DEADLINE_SLICE : BUDGET_CHUNK;
    this.clockStart = 0;
    this.sliced = false;
  }

  /** The next chunk of the budget for the dispatch loop (reserve > 0); the clock is checked here. */
  refill(pc: number): number {
    const ms = this.deadline?.ms;
    if (ms !== undefined) {
      // The first chunk is the run's start: the clock is first read a slice later.
      if (!this.sliced) this.sliced = true;
      else {
        const now = nowMs();
        if (this.clockStart === 0) this.clockStart = now;
        else if (now - this.clockStart >= ms) throw new RunDeadlineExceeded(pc, 'time', this.deadline!);
      }
    }
    const k = Math.min(this.reserve, this.chunk);
    this.reserve -= k;
    return k;
  }

  /** The error of a run whose budget is spent. */
  exhausted(pc: number): Error {
    return this.byDeadline ? new RunDeadlineExceeded(pc, 'instructions', this.deadline!) : new BudgetExceeded(pc, this.budget);
  }

  /** Borrow a stack block for a run. */
  attachStack(): void {
    const b = this.stacks.pop() ?? new StackBlock(this.space, this.stackSize);
    // The frames are the running program's own memory while it holds them (helpers/reach.ts).
    const owner = this.image.owner;
    if (b.owner !== owner) {
      // A block last used by another collection may hold its leftovers, which a
      // privileged program could read as uninitialised stack: give it back
      // zeroed, as the JIT's per-program stacks are (docs/security.md).
      if (b.owner !== undefined) this.space.u8.fill(0, b.base, b.base + b.stride * MAX_CALL_FRAMES);
      b.owner = owner;
      for (const r of b.regions) r.owner = owner;
    }
    this.stack = b;
    this.stackBase = b.base;
    this.stride = b.stride;
  }

  detachStack(): void {
    if (this.stack) this.stacks.push(this.stack);
    this.stack = undefined;
  }

  /** r10 of frame `depth`: one past the frame's highest byte. */
  stackTop(depth: number): number {
    return this.stackBase + (depth + 1) * this.stride;
  }

  refreshViews(): void {
    // A non-shared memory detaches its old buffer when it grows (byteLength
    // becomes 0), so a live non-empty buffer is still current and the
    // Memory.buffer getter (a call into the engine) can be skipped. Shared
    // memories keep old buffers alive: always ask.
    const cur = this.buf as ArrayBufferLike | undefined;
    if (cur !== undefined && cur.byteLength !== 0 && !this.space.shared) {
      this.resetWindows();
      return;
    }
    const buf = this.space.memory.buffer;
    if (buf !== this.buf) {
      this.buf = buf;
      this.dv = new DataView(buf);
      this.u8 = new Uint8Array(buf);
    }
    this.resetWindows();
  }

  resetWindows(): void {
    if (this.checked) {
      this.rLo = this.rHi = this.wLo = this.wHi = 0;
    } else {
      this.rLo = this.wLo = NULL_GUARD;
      this.rHi = this.wHi = this.buf.byteLength;
    }
  }
}
