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
 *
 * Copies are copy-on-write: a clone shares registers (shareReg), the stack array
 * and the slots; Frame.reg and Frame.slot hand out a private copy before a
 * change. A new field of the state is copied in VerifierState.clone or
 * Frame.clone and compared in prune.ts statesEqual.
 */
import type { ActiveLock } from './spin-lock.js';
import { Reg, type DynptrType } from './types.js';

/**
 * Whether a shared register is frozen, so that a write that skips Frame.reg throws instead of
 * changing another state. Freezing costs a runtime call per register shared (a tenth of the
 * walk's time on large programs), so the verifier runs without it; the tests turn it on, to
 * catch a write that breaks copy-on-write.
 */
export const cowGuard = { freeze: false };

/**
 * Mark a register as held by more than one frame: from now on it is only read, and a change
 * goes to a copy (Frame.reg). (A register is shared once: every later clone passes the same
 * object on.) With cowGuard.freeze, it and its Scalar are frozen too.
 */
export function shareReg(r: Reg): void {
  if (r.shared) return;
  r.shared = true;
  if (cowGuard.freeze) {
    Object.freeze(r.s);
    Object.freeze(r);
  }
}

// (stack-liveness.ts counts no store as a read, since no store checks what it overwrites: a
// store over an iterator's slot scrubs it unchecked, as the kernel's scrub_special_slot does.)
export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;
/** a slot of an open-coded iterator's state (STACK_ITER; iter.ts) */
export const STACK_ITER = 4;
/** a slot of a dynptr (STACK_DYNPTR, two slots; dynptr.ts) */
export const STACK_DYNPTR = 5;
export const SLOT_CHAR = ['?', 'r', 'm', '0', 'i', 'd'];

/**
 * What the kernel keeps in a dynptr slot's spilled_ptr: the dynptr's type, whether this is its
 * first (higher) slot, the id its slices carry (dynptr_id), and the reference a ringbuf dynptr
 * holds (shared by its clones).
 */
export interface DynptrSlot {
  type: DynptrType;
  first: boolean;
  id: number;
  refObjId: number;
}

/**
 * What the kernel keeps in an iterator slot's spilled_ptr (struct bpf_reg_state's iter): the
 * iterator's kind (the BTF struct bpf_iter_<kind>), ACTIVE or DRAINED, how many iterations
 * the path has simulated (only for the infinite-loop check), and, in the first slot, the
 * reference that bpf_iter_<kind>_new acquired and _destroy releases.
 */
export interface IterSlot {
  kind: string;
  state: 'active' | 'drained';
  depth: number;
  refObjId: number;
  /** the slot is the iterator's first (highest) one, which holds the reference */
  first: boolean;
  /**
   * KF_RCU_PROTECTED iterators: 'rcu' when created inside an RCU read section (MEM_RCU, which
   * bpf_rcu_read_unlock turns into 'untrusted'), 'untrusted' outside one (PTR_UNTRUSTED)
   */
  trust: '' | 'rcu' | 'untrusted';
}

export class StackSlot {
  /**
   * The 8 byte types. A plain array rather than a Uint8Array: states are cloned at every
   * branch and checkpoint, and a small array literal costs far less to allocate and collect
   * than a typed array's backing store.
   */
  readonly t: number[];
  spilled: Reg | null = null;
  /** the iterator state, when the bytes are STACK_ITER */
  iter: IterSlot | null = null;
  /** the dynptr state, when the bytes are STACK_DYNPTR */
  dynptr: DynptrSlot | null = null;
  /**
   * The slot is held by more than one frame (a clone shares its slots rather than copying
   * them: most of a stack is unchanged between a checkpoint and the paths after it). A shared
   * slot is never written: Frame.slot hands out a private copy first.
   */
  shared = false;

  constructor(t?: number[]) {
    this.t = t ?? [STACK_INVALID, STACK_INVALID, STACK_INVALID, STACK_INVALID, STACK_INVALID, STACK_INVALID, STACK_INVALID, STACK_INVALID];
  }

  clone(): StackSlot {
    const t = this.t;
    const s = new StackSlot([t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!, t[6]!, t[7]!]);
    // (the spilled register is shared too: ownSpilled copies it before a change)
    const sp = this.spilled;
    if (sp) {
      shareReg(sp);
      s.spilled = sp;
    }
    if (this.iter) s.iter = { ...this.iter };
    if (this.dynptr) s.dynptr = { ...this.dynptr };
    return s;
  }

  /**
   * The spilled register, to be changed in place: copied first when shared (a spill, a fill and
   * a slot copy share the register rather than copying it). Call on a slot Frame.slot handed out.
   */
  ownSpilled(): Reg | null {
    let sp = this.spilled;
    if (sp && sp.shared) {
      sp = sp.clone();
      this.spilled = sp;
    }
    return sp;
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
  /** the slots by spi; read it directly, write only through slot() (copy-on-write) */
  stack: Array<StackSlot | undefined>;
  /** instruction index of the call that created this frame (-1 for the main frame) */
  callsite: number;
  /** first instruction of the function this frame runs */
  subprog: number;
  /** the frame runs a callback of this helper id (bpf_loop, for_each_map_elem, find_vma), or 0 */
  callbackOf = 0;
  /** an async callback's frame 0: how many async entries lead to it (timer.ts) */
  callbackIter = 0;
  /**
   * Calls of a callback this frame's helper call has made so far on this path (the kernel's
   * callback_depth): bpf_loop calls its callback again only while it is below nr_loops.
   */
  callbackDepth = 0;

  /**
   * `stack` is this frame's own array; when false it is shared with another frame (Frame.clone)
   * and is never written: slot() copies it first. A frame that gives itself a new array sets it.
   */
  stackOwned = true;

  /** `regs` and `stack` given: the frame takes them as they are (a clone makes no throw-away arrays). */
  constructor(public frameno: number, callsite: number, subprog: number, regs?: Reg[], stack?: Array<StackSlot | undefined>) {
    this.regs = regs ?? Array.from({ length: 11 }, () => Reg.notInit());
    this.stack = stack ?? [];
    this.callsite = callsite;
    this.subprog = subprog;
  }

  /**
   * A copy of the frame. Registers `ownA` and `ownB` (-1: none) are about to be changed in both
   * frames (VerifierState.cloneOwning): one this frame holds alone stays its own and the copy
   * gets a register of its own (sharing the Scalar with `keepScalars`, for a caller that replaces
   * both Scalars), one copy instead of sharing it and then copying it on both sides.
   */
  clone(ownA = -1, ownB = -1, keepScalars = false): Frame {
    // Clones happen at every branch and checkpoint: copy-on-write registers, like the slots
    // below. Both frames now hold the same register objects (shareReg), and the first
    // write through either frame's reg() copies the one written. Most registers are not
    // written before the next clone or the end of the path.
    const regs = this.regs.slice();
    for (let r = 0; r < regs.length; r++) {
      const x = regs[r]!;
      if (x.shared) continue;
      if (r === ownA || r === ownB) regs[r] = keepScalars ? x.clone(x.s) : x.clone();
      else shareReg(x);
    }
    // Copy-on-write stack: both frames now hold the same array, and the first write through
    // either frame's slot() gives that frame its own array, then its own copy of the slot.
    const f = new Frame(this.frameno, this.callsite, this.subprog, regs, this.stack);
    f.stackOwned = this.stackOwned = false;
    f.callbackOf = this.callbackOf;
    f.callbackIter = this.callbackIter;
    f.callbackDepth = this.callbackDepth;
    return f;
  }

  /** A private copy of a shared stack array; the slots in it are still shared with the other holders. */
  private ownStack(): void {
    const st = this.stack.slice();
    for (let k = 0; k < st.length; k++) {
      const s = st[k];
      if (s) s.shared = true;
    }
    this.stack = st;
    this.stackOwned = true;
  }

  /**
   * Register r, to be changed in place: copied first when shared with another frame. Reads,
   * and writes of a whole new register (`regs[r] = ...`), go through `regs` directly; every
   * change of a register's fields must come through here.
   */
  reg(r: number): Reg {
    let x = this.regs[r]!;
    if (x.shared) {
      x = x.clone();
      this.regs[r] = x;
    }
    return x;
  }

  /**
   * Register r made the frame's own as reg() does, but a copy keeps the Scalar it shares: for a
   * caller that replaces the register's Scalar (`reg.s = ...`) before any other change.
   */
  regForNewScalar(r: number): Reg {
    let x = this.regs[r]!;
    if (x.shared) {
      x = x.clone(x.s);
      this.regs[r] = x;
    }
    return x;
  }

  /**
   * Slot `spi`, to be written: created when never touched, copied first when shared with
   * another frame. Reads go through `stack[spi]`; every write must come through here.
   */
  slot(spi: number): StackSlot {
    if (!this.stackOwned) this.ownStack();
    let s = this.stack[spi];
    if (!s) {
      s = new StackSlot();
      this.stack[spi] = s;
    } else if (s.shared) {
      s = s.clone();
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

/** Whether two states are in the same functions called from the same instructions (their frames' call sites). */
export function sameCallsites(a: VerifierState, b: VerifierState): boolean {
  if (a.frames.length !== b.frames.length) return false;
  for (let k = 0; k < a.frames.length; k++) if (a.frames[k]!.callsite !== b.frames[k]!.callsite) return false;
  return true;
}

export class VerifierState {
  frames: Frame[];
  refs: RefState[];
  /** the branch decisions that led here, newest first */
  path: PathStep | null = null;
  /** may_goto fall-throughs taken on this path (the kernel's may_goto_depth) */
  mayGotoDepth = 0;
  /** callbacks entered on this path (the kernel's callback_unroll_depth): another one is progress, not an infinite loop */
  callbackUnrollDepth = 0;
  /**
   * instructions on this path since its last checkpoint that the kernel records in its
   * instruction history (jump points, register spills and fills; the kernel's insn_hist_end -
   * insn_hist_start): past 40, the next prune point forces a checkpoint (is_state_visited)
   */
  insnHist = 0;
  /** inside a bpf_rcu_read_lock() section (the kernel's active_rcu_lock) */
  rcuLock = false;
  /** bpf_preempt_disable() calls not yet matched by bpf_preempt_enable() (active_preempt_lock) */
  preemptLock = 0;
  /** the bpf_spin_lock held (the kernel's active_lock; spin-lock.ts), null when none */
  activeLock: ActiveLock | null = null;

  /** `frames` and `refs` given: the state takes them as they are (a clone makes no throw-away arrays). */
  constructor(frames?: Frame[], refs?: RefState[]) {
    this.frames = frames ?? [];
    this.refs = refs ?? [];
  }

  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  get regs(): Reg[] {
    return this.cur.regs;
  }

  /** A copy of the state; `ownA`, `ownB` and `keepScalars` apply to the top frame (Frame.clone, cloneOwning). */
  clone(ownA = -1, ownB = -1, keepScalars = false): VerifierState {
    // (a reference's entry is never changed, only added or removed: the array is copied, not them)
    // (a loop, not map(): no closure per clone; push keeps the array packed)
    const frames: Frame[] = [];
    const top = this.frames.length - 1;
    for (let k = 0; k < top; k++) frames.push(this.frames[k]!.clone());
    if (top >= 0) frames.push(this.frames[top]!.clone(ownA, ownB, keepScalars));
    const s = new VerifierState(frames, this.refs.length ? this.refs.slice() : []);
    s.path = this.path;
    s.mayGotoDepth = this.mayGotoDepth;
    s.callbackUnrollDepth = this.callbackUnrollDepth;
    s.insnHist = this.insnHist;
    s.rcuLock = this.rcuLock;
    s.preemptLock = this.preemptLock;
    s.activeLock = this.activeLock;
    return s;
  }

  /**
   * Every register and spilled register of every frame that `match` selects, to be changed
   * (id-based refinement, releasing a reference): a matching register or spill's slot is made
   * the frame's own first, as Frame.reg and Frame.slot do for any write. (An array, not a generator: it runs
   * at every branch on a linked scalar, and usually matches nothing.)
   */
  allRegs(match: (r: Reg) => boolean): Reg[] {
    const out: Reg[] = [];
    for (const f of this.frames) {
      const regs = f.regs;
      for (let r = 0; r < regs.length; r++) if (match(regs[r]!)) out.push(f.reg(r));
      const st = f.stack;
      for (let spi = 0; spi < st.length; spi++) {
        const sp = st[spi]?.spilled;
        if (sp && match(sp)) out.push(f.slot(spi).ownSpilled()!);
      }
    }
    return out;
  }

  /**
   * A clone for the other side of a branch whose sides are then refined in place: registers
   * `a` and `b` (-1: none) of the top frame are made private in both states first. With
   * `newScalars`, the refinement gives both registers new Scalars (a comparison of two scalars,
   * branch.ts setScalar) or drops the state: their copies share the old Scalar meanwhile
   * instead of copying it (Frame.regForNewScalar).
   */
  cloneOwning(a: number, b: number, newScalars = false): VerifierState {
    // (a register this state held alone is copied once, for the clone, by Frame.clone; a shared
    // one is copied on both sides below)
    const c = this.clone(a, b, newScalars);
    const f = this.cur, g = c.cur;
    if (newScalars) {
      if (a >= 0) { f.regForNewScalar(a); g.regForNewScalar(a); }
      if (b >= 0) { f.regForNewScalar(b); g.regForNewScalar(b); }
      return c;
    }
    if (a >= 0) { f.reg(a); g.reg(a); }
    if (b >= 0) { f.reg(b); g.reg(b); }
    return c;
  }
}
