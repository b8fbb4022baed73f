/**
 * The verifier state of one path: call frames with their registers and
 * stacks, plus the references the path holds (struct bpf_verifier_state,
 * bpf_func_state and bpf_stack_state in include/linux/bpf_verifier.h).
 *
 * The stack of a frame is kept per 8-byte slot, slot `spi` covering
 * fp-8*(spi+1) .. fp-8*spi-1; each byte has a type (never written, written
 * with unknown data, written with zero, or part of a spilled register) and a
 * slot whose bytes are all "spill" holds the spilled register itself.
 * Byte j of a slot is the byte at fp - 8*spi - j - 1, as the kernel indexes
 * slot_type[], so the log prints a slot from its highest address down.
 */
import { Reg } from './types.js';

export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;
export const SLOT_CHAR = ['?', 'r', 'm', '0'];

export class StackSlot {
  readonly t = new Uint8Array(8);
  spilled: Reg | null = null;

  clone(): StackSlot {
    const s = new StackSlot();
    s.t.set(this.t);
    s.spilled = this.spilled ? this.spilled.clone() : null;
    return s;
  }

  /** The slot holds a spilled register (its top byte is a spill byte, as the kernel tests). */
  get isSpill(): boolean {
    return this.t[7] === STACK_SPILL;
  }

  get isEmpty(): boolean {
    for (let i = 0; i < 8; i++) if (this.t[i] !== STACK_INVALID) return false;
    return true;
  }
}

export class Frame {
  regs: Reg[];
  stack: Array<StackSlot | undefined> = [];
  /** instruction index of the call that created this frame (-1 for the main frame) */
  callsite: number;
  /** first instruction of the function this frame runs */
  subprog: number;
  /** the frame runs a callback of this helper id (bpf_loop, for_each_map_elem), or 0 */
  callbackOf = 0;
  /** for callbacks: the r1..r4 the helper passes at every iteration */
  callbackArgs: Reg[] | null = null;
  /** for callbacks: the callers' stacks when the helper was called (for widening across iterations) */
  callbackEntry: Array<Array<StackSlot | undefined>> | null = null;

  constructor(public frameno: number, callsite: number, subprog: number) {
    this.regs = Array.from({ length: 11 }, () => Reg.notInit());
    this.callsite = callsite;
    this.subprog = subprog;
  }

  clone(): Frame {
    const f = new Frame(this.frameno, this.callsite, this.subprog);
    f.regs = this.regs.map((r) => r.clone());
    f.stack = this.stack.map((s) => s?.clone());
    f.callbackOf = this.callbackOf;
    f.callbackArgs = this.callbackArgs ? this.callbackArgs.map((r) => r.clone()) : null;
    f.callbackEntry = this.callbackEntry;
    return f;
  }

  slot(spi: number): StackSlot {
    let s = this.stack[spi];
    if (!s) {
      s = new StackSlot();
      this.stack[spi] = s;
    }
    return s;
  }
}

export interface RefState {
  id: number;
  insn: number;
}

/** One decision on the way to an instruction: a branch at `insn` went to `to`. */
export interface PathStep {
  insn: number;
  to: number;
  taken: boolean;
  prev: PathStep | null;
}

export class VerifierState {
  frames: Frame[] = [];
  refs: RefState[] = [];
  /** the branch decisions that led here, newest first */
  path: PathStep | null = null;
  /** may_goto fall-throughs taken on this path (the kernel's may_goto_depth) */
  mayGotoDepth = 0;

  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  get regs(): Reg[] {
    return this.cur.regs;
  }

  clone(): VerifierState {
    const s = new VerifierState();
    s.frames = this.frames.map((f) => f.clone());
    s.refs = this.refs.map((r) => ({ ...r }));
    s.path = this.path;
    s.mayGotoDepth = this.mayGotoDepth;
    return s;
  }

  /** Every register and spilled register of every frame (for id-based refinement). */
  *allRegs(): IterableIterator<Reg> {
    for (const f of this.frames) {
      for (const r of f.regs) yield r;
      for (const s of f.stack) if (s?.spilled) yield s.spilled;
    }
  }
}
