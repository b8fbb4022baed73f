/**
 * Which stack slots some path from an instruction may still read: the
 * static counterpart of the kernel's stack-slot liveness (REG_LIVE_READ
 * marks on spilled_ptr, set by mark_reg_read from check_stack_read and
 * check_stack_range_initialized, and consulted by stacksafe(), which skips a
 * slot the explored state never read: "explored state didn't use this").
 *
 * A slot no path from instruction i reads again before its function
 * returns cannot change a check on the way: whatever its bytes hold, the
 * paths from i do the same. states_equal() may then ignore it, bytes and
 * spilled register alike. Precision (precision.ts) asks a finer question of
 * the slots that stay: whether a spilled scalar's *value* matters.
 *
 * Reads: a load or an atomic through r10 plus a constant, or through a
 * register the straight line before it sets to r10 plus a constant, reads
 * the slots it covers; through any other pointer that may point to the
 * stack, every slot; a call with an argument that may point to the stack and through
 * which it may read (helper-protos: anything but write-only buffers and
 * non-pointers; every argument of a kfunc, a function or an unknown helper)
 * reads the slots from a known r10 offset up to the frame's top (a helper's
 * map key or value, or a buffer whose size argument is a constant set just
 * before the call: that many bytes, as check_helper_mem_access checks), or
 * every slot when the offset is not known; a helper's callback may step the
 * pointer down too, so a call of such a helper reads every slot, and a
 * bpf-to-bpf call reads what its function reads through each pointer, at
 * offsets its straight lines tell from its arguments (computeCalleeReach;
 * every slot when they do not, and for a global function). An exit ends
 * the frame.
 *
 * A store is not a read: no check of a store looks at what it overwrites
 * (stack.ts stackWrite, stackHelperAccess), and the bytes it keeps are
 * read, if ever, by a later load, which counts then. The one exception,
 * an unprivileged partial store over a spilled pointer (refused), is not a
 * read in Linux either, so both prune there alike; what the store leaves
 * can only leak through a later load, which keeps the slot live. A store
 * over a dynptr's slot is checked (dynptr.ts destroyIfDynptr: refused for a
 * ringbuf dynptr) without counting as a read, as in the kernel, whose
 * destroy_if_dynptr_stack_slot marks nothing read: the reference such a
 * dynptr holds must match in states_equal's reference check, and a safe
 * explored state that holds it elsewhere releases it there. As in the
 * kernel (REG_LIVE_WRITTEN), an 8-byte store through r10 that covers a slot
 * whole screens it from the reads after it: before that store the slot is
 * live only if some path reads it first. A narrower store screens nothing.
 *
 * A caller's slots are read after the call returns, from the instruction
 * after it, and, while the callee runs, only through pointers the callee was
 * given: `computeCallerAccess` tells, per instruction, whether some path
 * from there to the function's exit may read memory through a register
 * that may point to a caller's stack (precision.ts's may-analysis). A
 * callback's frame is entered again by its helper after it returns: its
 * callers' slots are all kept live (env.ts).
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import type { HelperUse } from './precision.js';
import type { SuccessorTable } from '../isa/control-flow.js';

const ALL_SLOTS = 0xffffffff;
const ARGS = 0b111110; // r1..r5
const SIZE_BYTES: Record<number, number> = { [op.BPF_B]: 1, [op.BPF_H]: 2, [op.BPF_W]: 4, [op.BPF_DW]: 8 };
const ALL: readonly [number, number] = [ALL_SLOTS, ALL_SLOTS];
const NONE: readonly [number, number] = [0, 0];

/** The slot words (spi 0..31, 32..63) covered by bytes [off, off + size) below r10; undefined when outside the frame. */
export type SlotsOf = (off: number, size: number) => readonly [number, number] | undefined;

/** r1..r5 through which a call may read memory: a helper's per its prototype, every argument of anything else. */
function callReadArgs(ins: Insn, helperUse: (id: number) => HelperUse): number {
  if (op.sourceOf(ins.code) === op.BPF_X || ins.src !== op.BPF_PSEUDO_HELPER) return ARGS;
  return helperUse(ins.imm).readsMem ?? ARGS;
}

/** A call whose code may reach the stack around a pointer it is passed: a function, an indirect call, a helper with a callback. */
function reachesAround(ins: Insn, helperUse: (id: number) => HelperUse): boolean {
  if (op.sourceOf(ins.code) === op.BPF_X || ins.src === op.BPF_PSEUDO_CALL) return true;
  return ins.src === op.BPF_PSEUDO_HELPER && helperUse(ins.imm).wholeStack === true;
}

/**
 * Slots (lo, hi words) instruction `ins` may read, given the registers that may point to the
 * stack before it and, for r1..r5, the constant r10 offset they hold when known.
 */
function readSlots(ins: Insn, i: number, stackPtrs: number, slotsOf: SlotsOf, fpOffsetAt: (i: number, r: number) => number | undefined,
  helperUse: (id: number) => HelperUse, reachBytes?: ReachBytes, calleeReads?: CalleeReads): readonly [number, number] {
  const cls = op.classOf(ins.code);
  switch (cls) {
    case op.BPF_LDX:
      if (ins.src === 10) return slotsOf(ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!) ?? NONE; // (outside the frame: refused)
      return stackPtrs & (1 << ins.src) ? viaPointer(ins.src, ins, i, slotsOf, fpOffsetAt) : NONE;
    case op.BPF_STX:
      if (op.modeOf(ins.code) !== op.BPF_ATOMIC) return NONE;
      if (ins.dst === 10) return slotsOf(ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!) ?? NONE;
      return stackPtrs & (1 << ins.dst) ? viaPointer(ins.dst, ins, i, slotsOf, fpOffsetAt) : NONE;
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      if (op.opOf(ins.code) !== op.BPF_CALL) return NONE;
      const via = stackPtrs & callReadArgs(ins, helperUse);
      // A bpf-to-bpf function, or a callback a helper calls, may step a pointer it is given down
      // as well as up (pointer arithmetic within the caller's frame): every slot, as a kfunc or a
      // helper reading only [ptr, ptr + size) does not.
      if (via && reachesAround(ins, helperUse)) return calleeSlots(ins, i, via, slotsOf, fpOffsetAt, calleeReads);
      let lo = 0, hi = 0;
      const use = op.sourceOf(ins.code) === op.BPF_K && ins.src === op.BPF_PSEUDO_HELPER ? helperUse(ins.imm) : undefined;
      for (let r = 1; r <= 5; r++) {
        if (!(via & (1 << r))) continue;
        const off = fpOffsetAt(i, r);
        // [off, off + size) when the call's size is known (a map's key or value, a constant
        // length: check_helper_mem_access), else up to the frame's top
        const size = off === undefined || !use || !reachBytes ? undefined : reachBytes(i, r, use);
        const s = off === undefined ? undefined : slotsOf(off, size !== undefined && size > 0 && size <= -off ? size : -off);
        if (!s) return ALL;
        lo |= s[0];
        hi |= s[1];
      }
      return [lo >>> 0, hi >>> 0];
    }
  }
  return NONE;
}

/**
 * What a bpf-to-bpf function may read through each argument register r1..r5 (index r), in bytes
 * around the pointer it is given: [lo, hi) (hi Infinity: up to the caller's frame top; lo > hi:
 * nothing), or undefined when it cannot be told.
 */
export type CalleeReach = ({ lo: number; hi: number } | undefined)[];
/** The CalleeReach of the function a bpf-to-bpf call at instruction i enters; undefined: unknown (every slot). */
export type CalleeReads = (i: number) => CalleeReach | undefined;

/**
 * The caller's slots a bpf-to-bpf call reads through the stack pointers `via` it passes: what
 * its function reads through each (computeCalleeReach), at the r10 offset the pointer holds. The
 * kernel reads them per call chain (6.18's liveness.c: a callee's reads of a caller's frame are
 * that frame's reads at the call); every slot when a pointer's offset or the callee's reach is
 * not known, or for a callback or a global function, whose body the walk does not follow here.
 */
function calleeSlots(ins: Insn, i: number, via: number, slotsOf: SlotsOf, fpOffsetAt: (i: number, r: number) => number | undefined,
  calleeReads: CalleeReads | undefined): readonly [number, number] {
  const reach = ins.src === op.BPF_PSEUDO_CALL && op.sourceOf(ins.code) === op.BPF_K && calleeReads ? calleeReads(i) : undefined;
  if (!reach) return ALL;
  let lo = 0, hi = 0;
  for (let r = 1; r <= 5; r++) {
    if (!(via & (1 << r))) continue;
    const a = reach[r];
    if (!a) return ALL;
    if (a.lo >= a.hi) continue;
    const off = fpOffsetAt(i, r);
    if (off === undefined) return ALL;
    const end = Math.min(off + a.hi, 0);
    if (end <= off + a.lo) continue;
    const s = slotsOf(off + a.lo, end - off - a.lo);
    if (!s) return ALL;
    lo |= s[0];
    hi |= s[1];
  }
  return [lo >>> 0, hi >>> 0];
}

/** Where register r before instruction i points: argument register `arg` at its function's entry plus `off`; undefined when not known. */
export type ArgOffsetAt = (i: number, r: number) => { arg: number; off: number } | undefined;

/**
 * For the function [start, end): what it may read through each argument register, from the
 * instructions that read through a register that may point to a caller's stack (`callerPtrsIn`,
 * as computeCallerAccess): a load or an atomic reads its bytes; a helper its known size or up to
 * the frame's top; a kfunc up to the frame's top; a bpf-to-bpf call what its own function reads
 * (`inner`, undefined: unknown). A read through a register whose argument and offset are not
 * known makes every argument's reach unknown.
 */
export function computeCalleeReach(
  insns: readonly Insn[],
  start: number,
  end: number,
  second: Uint8Array,
  callerPtrsIn: Uint16Array,
  argOffsetAt: ArgOffsetAt,
  helperUse: (id: number) => HelperUse,
  inner: CalleeReads,
  isGlobalAt: (i: number) => boolean,
  reachBytes?: ReachBytes,
): CalleeReach {
  const reach: CalleeReach = [];
  for (let r = 1; r <= 5; r++) reach[r] = { lo: Infinity, hi: -Infinity };
  let unknown = false;
  const add = (i: number, r: number, d: number, size: number): void => {
    const a = argOffsetAt(i, r);
    const x = a && reach[a.arg];
    if (!a || !x) {
      unknown = true;
      return;
    }
    x.lo = Math.min(x.lo, a.off + d);
    x.hi = Math.max(x.hi, a.off + d + size);
  };
  for (let i = start; i < end && !unknown; i++) {
    if (second[i]) continue;
    const ins = insns[i]!;
    const ptrs = callerPtrsIn[i]!;
    if (!ptrs) continue;
    const cls = op.classOf(ins.code);
    if (cls === op.BPF_LDX) {
      if (ptrs & (1 << ins.src)) add(i, ins.src, ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!);
    } else if (cls === op.BPF_STX) {
      if (op.modeOf(ins.code) === op.BPF_ATOMIC && ptrs & (1 << ins.dst)) add(i, ins.dst, ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!);
    } else if ((cls === op.BPF_JMP || cls === op.BPF_JMP32) && op.opOf(ins.code) === op.BPF_CALL) {
      const via = ptrs & callReadArgs(ins, helperUse);
      if (!via) continue;
      const pseudo = op.sourceOf(ins.code) === op.BPF_K && ins.src === op.BPF_PSEUDO_CALL;
      if (reachesAround(ins, helperUse) && (!pseudo || isGlobalAt(i))) {
        unknown = true;
        break;
      }
      const use = !pseudo && op.sourceOf(ins.code) === op.BPF_K && ins.src === op.BPF_PSEUDO_HELPER ? helperUse(ins.imm) : undefined;
      const sub = pseudo ? inner(i) : undefined;
      if (pseudo && !sub) {
        unknown = true;
        break;
      }
      for (let r = 1; r <= 5; r++) {
        if (!(via & (1 << r))) continue;
        if (sub) {
          const a = sub[r];
          if (!a) unknown = true;
          else if (a.lo < a.hi) add(i, r, a.lo, a.hi - a.lo);
          continue;
        }
        const size = use && reachBytes ? reachBytes(i, r, use) : undefined;
        add(i, r, 0, size !== undefined && size > 0 ? size : Infinity);
      }
    }
  }
  if (unknown) return [];
  return reach;
}

/**
 * The slot an 8-byte store through r10 at a slot boundary overwrites whole: what any path reads
 * there after it is what it stored, never what was there before (the kernel's REG_LIVE_WRITTEN,
 * set by check_stack_write_fixed_off only when size == BPF_REG_SIZE, which stops mark_reg_read's
 * walk up the parentage chain; liveness.c's must_write in later kernels).
 */
function wholeSlotWritten(ins: Insn, slotsOf: SlotsOf): readonly [number, number] | undefined {
  const cls = op.classOf(ins.code);
  if ((cls !== op.BPF_STX && cls !== op.BPF_ST) || op.modeOf(ins.code) !== op.BPF_MEM) return undefined;
  if (ins.dst !== 10 || op.sizeOf(ins.code) !== op.BPF_DW || ins.off % 8 !== 0) return undefined;
  return slotsOf(ins.off, 8);
}

/** How many bytes the helper `use` called at instruction i reads through register r, when known. */
export type ReachBytes = (i: number, r: number, use: HelperUse) => number | undefined;

/**
 * The slots an access through register r reads, r10 plus a known constant before instruction i
 * (clang's `r1 = r10; r1 += -128; r3 = *(u64 *)(r1 + 8)`): those its bytes cover, as
 * check_stack_read_fixed_off reads them; every slot when the offset is not known.
 */
function viaPointer(r: number, ins: Insn, i: number, slotsOf: SlotsOf, fpOffsetAt: (i: number, r: number) => number | undefined): readonly [number, number] {
  const base = fpOffsetAt(i, r);
  return (base === undefined ? undefined : slotsOf(base + ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!)) ?? ALL;
}

/** computeCallerAccess asks only whether a caller's stack may be read: no offsets, no slots. */
const NO_SLOTS_OF: SlotsOf = () => undefined;
const NO_OFFSET = (): undefined => undefined;

/**
 * Per instruction i, words 2i and 2i+1: the slots some path from i may read before its
 * function returns (a least fixpoint, backward over `succ`).
 */
export function computeStackLiveness(
  insns: readonly Insn[],
  succ: SuccessorTable,
  stackPtrsIn: Uint16Array,
  slotsOf: SlotsOf,
  fpOffsetAt: (i: number, r: number) => number | undefined,
  helperUse: (id: number) => HelperUse,
  reachBytes?: ReachBytes,
  calleeReads?: CalleeReads,
): Uint32Array {
  const n = insns.length;
  const { off, to, second } = succ;
  const live = new Uint32Array(2 * n);
  const own = new Uint32Array(2 * n);
  // the slot an instruction overwrites whole (all bits set: none), screening it from reads after it
  const keep = new Uint32Array(2 * n).fill(ALL_SLOTS);
  for (let i = 0; i < n; i++) {
    if (second[i]) continue;
    const a = readSlots(insns[i]!, i, stackPtrsIn[i]!, slotsOf, fpOffsetAt, helperUse, reachBytes, calleeReads);
    own[2 * i] = a[0];
    own[2 * i + 1] = a[1];
    const w = wholeSlotWritten(insns[i]!, slotsOf);
    if (w) {
      keep[2 * i] = ~w[0] >>> 0;
      keep[2 * i + 1] = ~w[1] >>> 0;
    }
  }
  for (let changed = true; changed; changed &&= !succ.forward) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (second[i]) continue;
      let lo = 0, hi = 0;
      for (let e = off[i]!, end = off[i + 1]!; e < end; e++) {
        const t = to[e]!;
        lo |= live[2 * t]!;
        hi |= live[2 * t + 1]!;
      }
      lo = ((lo & keep[2 * i]!) | own[2 * i]!) >>> 0;
      hi = ((hi & keep[2 * i + 1]!) | own[2 * i + 1]!) >>> 0;
      if (lo !== live[2 * i] || hi !== live[2 * i + 1]) {
        live[2 * i] = lo;
        live[2 * i + 1] = hi;
        changed = true;
      }
    }
  }
  return live;
}

/** Per instruction: 1 when some path from it to its function's exit may read a caller's stack (see the header). */
export function computeCallerAccess(
  insns: readonly Insn[],
  succ: SuccessorTable,
  callerPtrsIn: Uint16Array,
  helperUse: (id: number) => HelperUse,
): Uint8Array {
  const n = insns.length;
  const { off, to, second } = succ;
  const out = new Uint8Array(n);
  const reads = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (second[i]) continue;
    const a = readSlots(insns[i]!, i, callerPtrsIn[i]!, NO_SLOTS_OF, NO_OFFSET, helperUse);
    reads[i] = a[0] !== 0 || a[1] !== 0 ? 1 : 0;
  }
  for (let changed = true; changed; changed &&= !succ.forward) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (second[i] || out[i]) continue;
      let v = reads[i] === 1;
      for (let e = off[i]!, end = off[i + 1]!; e < end; e++) if (out[to[e]!]) v = true;
      if (v) {
        out[i] = 1;
        changed = true;
      }
    }
  }
  return out;
}
