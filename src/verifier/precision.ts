/**
 * Which scalar registers need to be compared precisely when pruning: a
 * static, path-insensitive counterpart of the kernel's precision tracking
 * (mark_chain_precision and __mark_chain_precision's backtracking).
 *
 * The kernel marks a scalar "precise" when its value decided something on
 * some path: a branch it predicted, a pointer offset, a helper's size or
 * flags argument, the return value. states_equal() then compares imprecise
 * scalars by type only: any value would have been just as safe. Here the same
 * question is answered before the walk, by a backward data-flow analysis:
 * the value of rN before instruction i "matters" if, on some path from i, it
 * flows (through moves and ALU operations) into a *sink*:
 *
 * - an operand of a conditional jump: every one, or, given the walk's records
 *   (BRANCH_*), one the walk decided or that narrowed a linked scalar
 *   (undecidedBranchBefore), following only the edges the walk took;
 * - the base of a memory access, any atomic operand, and the value of a
 *   store through a pointer that may point to the stack other than r10 itself
 *   (stores elsewhere — map values, context, packet — are not tracked by the
 *   verifier, whose loads from there give unknown scalars);
 * - a helper argument the helper's prototype checks (anything but
 *   ANYTHING; every argument of helpers that take a callback), every argument
 *   of a kfunc or bpf-to-bpf call, r0 at any exit;
 * - the register operand of LD_IND (and r6, the context, of LD_ABS/LD_IND);
 * - the divisor of a register division (the engines rely on the verifier's
 *   non-zero proof);
 * - either operand of a 64-bit add or subtract where the other may be a
 *   pointer (the scalar becomes the pointer's offset).
 *
 * "May be a pointer" comes from a forward must-analysis of registers that are
 * certainly scalar (or uninitialised) before each instruction: constants, the
 * results of ALU operations that the kernel only allows on scalars, copies of
 * scalars, loads of 1 or 2 bytes and sign-extending loads, and 4-byte loads
 * through a pointer that cannot be the context (only plain context reads of 4
 * bytes give packet pointers; a narrow read anywhere else is a scalar or
 * refused), 4-byte reads at an offset where the program type's context holds
 * a scalar (xdp_md's ingress_ifindex: the walk's ctx access refuses a moved
 * context pointer, so the instruction's offset is the field's), and r0 after a helper whose prototype returns an integer or nothing. Other loads,
 * other call results and function arguments may be pointers; "may be the context" is a may-analysis
 * like the stack one below (r1 at entry, function arguments, copies, offsets
 * and 8-byte loads).
 * "May point to the stack" is a forward may-analysis: r10, copies of it and
 * offsets from it, 8-byte loads (a spilled stack pointer) and function
 * arguments (a caller's stack pointer).
 *
 * Stack slots of the current function are tracked too, for the accesses
 * clang emits for spills (r10 plus a constant): a spilled scalar matters if
 * it is loaded back into a register that matters. A load through any other
 * pointer that may reach the stack reads the slots the walk has seen it read
 * (StackReadsSeen) or, before that, any; a call to a function, a kfunc or a helper
 * that reads stack contents for its checks (a map key, a callback's context)
 * makes every slot matter. The caller frames' stacks are always compared in
 * full.
 *
 * The result is sound whatever the actual path: a scalar whose value reaches
 * no sink cannot change a branch decision, a memory access, a helper's
 * checks, a return-value check or any per-instruction fact the engines use,
 * so a state that differs from a verified one only in such registers (and
 * such spilled scalars) is safe too.
 */
import type { Insn } from '../isa/insn.js';
import type { HelperProto } from '../uapi/helper-proto.js';
import * as op from '../isa/opcodes.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { POISON_HELPER_ID } from '../object/btf/core.js';
import { Scalar } from './scalar.js';
import { scalarBranchTaken } from './scalar-branch.js';
import { argOffsetBefore, constBefore, constValueBefore, fpOffsetBefore, lddwBefore } from './straight-line.js';
import { calleeStart, isCondJump, isPseudoCall, isPseudoFunc, jumpTarget, successorTable, type SuccessorTable } from '../isa/control-flow.js';
import { computeCalleeReach, computeCallerAccess, computeStackLiveness, type CalleeReach } from './stack-liveness.js';

const bit = (r: number): number => 1 << r;
const ARGS = 0b111110; // r1..r5
const CALLER_SAVED = 0b111111; // r0..r5
const ALL = 0x7ff;
const NO_SLOTS = 0;
const ALL_SLOTS = 0xffffffff;

/** Argument types whose stack contents, if any, no check reads (only their byte types matter). */
const ARGS_NOT_READING_STACK_VALUES = new Set<string>([
  'ANYTHING', 'CONST_MAP_PTR', 'PTR_TO_MAP_VALUE', 'PTR_TO_UNINIT_MAP_VALUE', 'PTR_TO_MEM', 'PTR_TO_MEM_OR_NULL',
  'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'CONST_SIZE_OR_ZERO', 'CONST_ALLOC_SIZE_OR_ZERO', 'PTR_TO_CTX', 'PTR_TO_CTX_OR_NULL',
]);

/** What a helper's checks read: r1..r5 (bits 1-5) and, in bit 0, whether it reads values spilled on the stack. */
export interface HelperUse {
  args: number;
  readsStack: boolean;
  /** the arguments (bits 1-5) through which the helper reads stack values (absent: all five when readsStack) */
  stackArgs?: number;
  /**
   * it may read any slot of the stack (an unknown helper, or one calling back into the program,
   * whose callback reaches the caller's stack around the pointer it is given); otherwise it reads
   * forward from the pointers it is passed
   */
  wholeStack?: boolean;
  /** the arguments (bits 1-5) that are keys of the map in argument `mapArg`: the helper reads key_size bytes there */
  keyArgs?: number;
  mapArg?: number;
  /**
   * the arguments (bits 1-5) through which the helper may read memory, byte types included (its
   * checks of initialised stack bytes); absent: all five. Write-only buffers and non-pointers are
   * left out (stack-liveness.ts).
   */
  readsMem?: number;
  /**
   * per register r (index 1..5), how far the helper's checks read through it when it points to
   * the stack: its map's key or value size, or the constant in the size argument after it
   * (check_helper_mem_access's access size); absent: anywhere up to the frame's top
   */
  reach?: readonly (ArgReach | undefined)[];
  /**
   * r0 after the call is a scalar or not initialised (RET_INTEGER, RET_VOID: check_helper_call
   * gives an unknown scalar or NOT_INIT): the certainly-scalar analysis keeps it
   */
  retScalar?: boolean;
}

/** Where the number of bytes a helper reads through a pointer argument comes from (HelperUse.reach). */
export type ArgReach = { readonly map: number; readonly part: 'key' | 'value' } | { readonly sizeArg: number };

/** A map's key and value sizes, for the lddw of its pointer. */
export interface MapSizes {
  keySize: number;
  valueSize: number;
}

/** Argument types that never read the memory they may point to: non-pointers and write-only buffers (MEM_UNINIT). */
const ARGS_NOT_READING_MEM = new Set<string>([
  'ANYTHING', 'CONST_MAP_PTR', 'CONST_SIZE', 'CONST_SIZE_OR_ZERO', 'CONST_ALLOC_SIZE_OR_ZERO', 'PTR_TO_CTX', 'PTR_TO_CTX_OR_NULL',
  'PTR_TO_UNINIT_MEM', 'PTR_TO_UNINIT_MAP_VALUE',
]);

/** Registers certainly scalar (or not initialised) at a function's entry: all but the arguments and r10. */
const ENTRY_SCALARS = ALL & ~ARGS & ~bit(10);

/**
 * r1..r5 as far as a helper's checks read their values (see the header); all five when the
 * helper is unknown. A map key's value matters only to bpf_map_lookup_elem, whose result
 * cannot be NULL for an array's constant key (helper-ret.ts); every other helper checks only
 * that the key's bytes are initialised (check_stack_range_initialized).
 */
export function helperArgSinks(proto: HelperProto | undefined, helperId = -1): HelperUse {
  // A poisoned CO-RE relocation (libbpf's bpf_core_poison_insn) is refused wherever it is
  // reached (call-helper.ts), so a state proven safe never reaches it: it reads nothing.
  if (!proto && helperId === POISON_HELPER_ID) return { args: 0, readsStack: false, stackArgs: 0, readsMem: 0 };
  if (!proto) return { args: ARGS, readsStack: true, wholeStack: true };
  const reads = (t: string): boolean => !ARGS_NOT_READING_STACK_VALUES.has(t) && (t !== 'PTR_TO_MAP_KEY' || helperId === BPF_FUNC.map_lookup_elem);
  const readsStack = proto.args.some(reads);
  const retScalar = proto.ret === 'INTEGER' || proto.ret === 'VOID';
  if (proto.args.some((t) => t === 'PTR_TO_FUNC')) return { args: ARGS, readsStack: true, stackArgs: ARGS, wholeStack: true, retScalar };
  let m = 0, st = 0, keys = 0, rm = 0;
  const mapArg = proto.args.indexOf('CONST_MAP_PTR');
  const reach: (ArgReach | undefined)[] = [];
  proto.args.forEach((t, k) => {
    if (k < 5 && t !== 'ANYTHING') m |= bit(k + 1);
    if (k < 5 && !ARGS_NOT_READING_MEM.has(t)) rm |= bit(k + 1);
    if (k < 5 && reads(t)) st |= bit(k + 1);
    if (k < 5 && t === 'PTR_TO_MAP_KEY') keys |= bit(k + 1);
    // check_func_arg: a map key or value is key_size / value_size bytes of the map argument's
    // map; a memory argument is as long as the size argument after it says (check_mem_size_reg)
    if (k >= 5) return;
    if ((t === 'PTR_TO_MAP_KEY' || t === 'PTR_TO_MAP_VALUE') && mapArg >= 0 && mapArg < 5) reach[k + 1] = { map: mapArg + 1, part: t === 'PTR_TO_MAP_KEY' ? 'key' : 'value' };
    const next = proto.args[k + 1];
    if ((t === 'PTR_TO_MEM' || t === 'PTR_TO_MEM_OR_NULL') && k + 1 < 5 && (next === 'CONST_SIZE' || next === 'CONST_SIZE_OR_ZERO')) reach[k + 1] = { sizeArg: k + 2 };
  });
  return { args: m, readsStack, stackArgs: st, readsMem: rm, retScalar, ...(reach.length ? { reach } : {}), ...(keys && mapArg >= 0 && mapArg < 5 ? { keyArgs: keys, mapArg: mapArg + 1 } : {}) };
}

/** An 8-byte BPF_MEM store of a register through a pointer other than r10 (what may fill a kptr field). */
function isDwStore(ins: Insn): boolean {
  return ins.code === (op.BPF_STX | op.BPF_MEM | op.BPF_DW) && ins.dst !== 10;
}

/** The 8-byte stack slots (bit spi, spi 0..31 and 32..63 in two words) covered by bytes [off, off+size) below r10. */
const slotCache = new Map<number, readonly [number, number] | undefined>();
function slotsOf(off: number, size: number): readonly [number, number] | undefined {
  // The fixpoints below ask for the same few offsets over and over: remember the answers.
  const key = off * 16 + size;
  if (slotCache.has(key)) return slotCache.get(key);
  const r = computeSlots(off, size);
  slotCache.set(key, r);
  return r;
}
function computeSlots(off: number, size: number): readonly [number, number] | undefined {
  if (off >= 0 || off < -512 || off + size > 0) return undefined;
  let lo = 0, hi = 0;
  for (let b = off; b < off + size; b++) {
    const spi = (-b - 1) >> 3;
    if (spi < 32) lo |= 1 << spi;
    else hi |= 1 << (spi - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

const SIZE_BYTES: Record<number, number> = { [op.BPF_B]: 1, [op.BPF_H]: 2, [op.BPF_W]: 4, [op.BPF_DW]: 8 };

/** An 8-byte constant stored through r10 replaces its slot: whatever the slot held is gone. */
function constStore(ins: Insn, sl: Slots): void {
  const slots = ins.dst === 10 && op.sizeOf(ins.code) === op.BPF_DW ? slotsOf(ins.off, 8) : undefined;
  if (!slots) return;
  sl.lo = (sl.lo & ~slots[0]) >>> 0;
  sl.hi = (sl.hi & ~slots[1]) >>> 0;
}

/**
 * Forward transfer of a "may hold a pointer of some kind" set (to the stack, to the context, to
 * a caller's stack) over instruction i. `sl` (in and out) holds this frame's stack slots that may
 * hold such a pointer, spilled; `viaStack`: the registers that may point to a stack before i;
 * `stackKind`: the pointers are stack pointers (to this frame or a caller's).
 * Only a fill can load such a pointer back: a load through any other pointer (map value,
 * context, packet, kernel object) gives a scalar or another kind of pointer, and no helper
 * writes a pointer into the stack (its writes are STACK_MISC). A narrower store over a spilled
 * pointer leaves the slot's bit set (the kernel scrubs the spill to MISC: setting is the safe
 * side).
 */
function stackPtrsAfter(ins: Insn, inSet: number, sl: Slots, viaStack: number, stackKind: boolean): number {
  const cls = op.classOf(ins.code);
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const d = bit(ins.dst);
  switch (cls) {
    case op.BPF_ALU:
      return inSet & ~d;
    case op.BPF_ALU64:
      if (o === op.BPF_MOV) return x && !ins.off && inSet & bit(ins.src) ? inSet | d : inSet & ~d;
      if (o === op.BPF_ADD || o === op.BPF_SUB) return inSet & d || (x && inSet & bit(ins.src)) ? inSet | d : inSet;
      return inSet & ~d;
    case op.BPF_LDX: {
      if (op.sizeOf(ins.code) !== op.BPF_DW || !(viaStack & bit(ins.src))) return inSet & ~d;
      const slots = ins.src === 10 ? slotsOf(ins.off, 8) : undefined;
      if (slots) return (sl.lo & slots[0]) | (sl.hi & slots[1]) ? inSet | d : inSet & ~d;
      return inSet | d;
    }
    case op.BPF_ST:
      constStore(ins, sl);
      return inSet;
    case op.BPF_STX: {
      const holds = (inSet & bit(ins.src)) !== 0;
      const slots = ins.dst === 10 && op.sizeOf(ins.code) === op.BPF_DW && op.modeOf(ins.code) !== op.BPF_ATOMIC ? slotsOf(ins.off, 8) : undefined;
      if (slots) {
        sl.lo = holds ? (sl.lo | slots[0]) >>> 0 : (sl.lo & ~slots[0]) >>> 0;
        sl.hi = holds ? (sl.hi | slots[1]) >>> 0 : (sl.hi & ~slots[1]) >>> 0;
      } else if (holds && viaStack & d) sl.lo = sl.hi = ALL_SLOTS;
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) {
        // (an atomic exchange through a stack pointer may load back what any slot holds)
        if (viaStack & d) sl.lo = sl.hi = ALL_SLOTS;
        if (ins.imm === op.BPF_CMPXCHG) return inSet | 1;
        if (ins.imm & op.BPF_FETCH) return inSet | bit(ins.src);
        if (ins.imm === op.BPF_LOAD_ACQ) return inSet | d;
      }
      return inSet;
    }
    case op.BPF_LD:
      return ins.code === op.OP_LDDW ? inSet & ~d : inSet & ~CALLER_SAVED;
    case op.BPF_JMP:
    case op.BPF_JMP32:
      // No helper returns a stack pointer, and a function may not return one to its caller. A
      // function, kfunc or indirect call may spill a pointer into this stack through a pointer
      // to it, but never a stack pointer (`stackKind`): check_stack_write_fixed_off refuses to
      // spill one into a frame other than the current one ("cannot spill pointers to stack
      // into stack frame of the caller"), and a kfunc's writes are bytes.
      if (o === op.BPF_CALL) {
        if (!stackKind && (x || ins.src !== op.BPF_PSEUDO_HELPER)) sl.lo = sl.hi = ALL_SLOTS;
        return inSet & ~CALLER_SAVED;
      }
      return inSet;
  }
  return inSet;
}

/**
 * Forward transfer of the "certainly scalar" set over instruction i. `mp`
 * (in and out) holds the stack slots that may hold a spilled pointer: an
 * 8-byte fill from any other slot through r10 is a scalar.
 */
function scalarsAfter(ins: Insn, inSet: number, ctxPtrs: number, stackPtrs: number, mp: Slots, helperUse: (helperId: number) => HelperUse, ctxScalarAt: (off: number) => boolean): number {
  const cls = op.classOf(ins.code);
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const d = bit(ins.dst);
  switch (cls) {
    case op.BPF_ALU:
      // 32-bit results are scalars (32-bit pointer arithmetic is refused; a 32-bit copy of a pointer is a scalar).
      return inSet | d;
    case op.BPF_ALU64:
      if (o === op.BPF_MOV) {
        if (!x) return inSet | d;
        if (ins.off) return inSet | d; // movsx: sign extension yields a scalar
        return inSet & bit(ins.src) ? inSet | d : inSet & ~d;
      }
      if (o === op.BPF_ADD || o === op.BPF_SUB) {
        if (!x) return inSet; // pointer +/- constant stays a pointer
        return (inSet & d) && (inSet & bit(ins.src)) ? inSet : inSet & ~d;
      }
      // Every other operation on a pointer is refused: an accepted result is a scalar.
      return inSet | d;
    case op.BPF_LDX: {
      // A pointer read from the context is a 4-byte packet pointer or an 8-byte one (every
      // *_is_valid_access refuses narrower or sign-extending reads of a pointer field), so only
      // a plain 4-byte read through what may be the context may give one, and only where the
      // context has a pointer field (a context pointer moved by a constant is refused).
      if (op.sizeOf(ins.code) !== op.BPF_DW)
        return op.sizeOf(ins.code) !== op.BPF_W || op.modeOf(ins.code) === op.BPF_MEMSX || !(ctxPtrs & bit(ins.src)) || ctxScalarAt(ins.off) ? inSet | d : inSet & ~d;
      const slots = ins.src === 10 ? slotsOf(ins.off, 8) : undefined;
      return slots && !(mp.lo & slots[0]) && !(mp.hi & slots[1]) ? inSet | d : inSet & ~d;
    }
    case op.BPF_ST:
      constStore(ins, mp);
      return inSet;
    case op.BPF_STX:
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) {
        if (stackPtrs & d) mp.lo = mp.hi = ALL_SLOTS;
        if (ins.imm === op.BPF_CMPXCHG) return inSet & ~1;
        if (ins.imm & op.BPF_FETCH) return inSet & ~bit(ins.src);
        if (ins.imm === op.BPF_LOAD_ACQ) return inSet & ~d;
        return inSet;
      }
      if (ins.dst === 10) {
        const slots = op.sizeOf(ins.code) === op.BPF_DW ? slotsOf(ins.off, 8) : undefined;
        if (slots && inSet & bit(ins.src)) {
          mp.lo = (mp.lo & ~slots[0]) >>> 0;
          mp.hi = (mp.hi & ~slots[1]) >>> 0;
        } else if (slots) {
          mp.lo = (mp.lo | slots[0]) >>> 0;
          mp.hi = (mp.hi | slots[1]) >>> 0;
        }
        // (a narrower spill cannot hold a pointer: the kernel refuses partial pointer spills)
      } else if (stackPtrs & d && !(inSet & bit(ins.src))) mp.lo = mp.hi = ALL_SLOTS;
      return inSet;
    case op.BPF_LD:
      if (ins.code === op.OP_LDDW) return ins.src === 0 ? inSet | d : inSet & ~d;
      // LD_ABS/LD_IND: r0 is the loaded scalar, r1..r5 are clobbered.
      return inSet | CALLER_SAVED;
    case op.BPF_JMP:
    case op.BPF_JMP32:
      // A call leaves r1..r5 uninitialised and r0 possibly a pointer, but for a helper whose
      // prototype returns an integer or nothing. A function, kfunc or indirect call may spill
      // pointers into this stack through a pointer to it; helpers do not.
      if (o === op.BPF_CALL) {
        const helper = !x && ins.src === op.BPF_PSEUDO_HELPER;
        if (!helper) mp.lo = mp.hi = ALL_SLOTS;
        return helper && helperUse(ins.imm).retScalar ? inSet | ARGS | 1 : (inSet | ARGS) & ~1;
      }
      return inSet;
  }
  return inSet;
}

/** Slot words in and out of the backward transfer (lo: slots 0..31, hi: 32..63). */
interface Slots {
  lo: number;
  hi: number;
  /**
   * (backward only) whether, on some path from here to the function's exit, a value read
   * through a pointer that may point to a caller's stack may matter
   */
  rd?: boolean;
}

/** Every slot of the frame (a module function, not a closure made per instruction and pass). */
function allSlots(sl: Slots): void {
  sl.lo = ALL_SLOTS;
  sl.hi = ALL_SLOTS;
}

/**
 * Backward transfer: what matters before instruction i, given what matters
 * after it (`out`, and the slots in `sl`, updated in place) and the
 * certainly-scalar and may-point-to-stack sets before it.
 */
function mattersBefore(ins: Insn, out: number, sl: Slots, sc: number, stackPtrs: number, helperUse: (helperId: number) => HelperUse,
  callerPtrs = ARGS, callee: { args: number; readsCaller: boolean } = { args: ARGS, readsCaller: true },
  fpOffset: (r: number) => number | undefined = () => undefined, keySize: (r: number) => number | undefined = () => undefined,
  readsSeen: () => ReadonlyArray<number> | undefined = () => undefined): number {
  const cls = op.classOf(ins.code);
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const d = bit(ins.dst), s = bit(ins.src);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const live = out & d;
      if (o === op.BPF_MOV) return (out & ~d) | (live && x ? s : 0);
      if (o === op.BPF_NEG || o === op.BPF_END) return out | (live ? d : 0);
      let m = (out & ~d) | (live ? d | (x ? s : 0) : 0);
      if (x && (o === op.BPF_DIV || o === op.BPF_MOD)) m |= s;
      if (cls === op.BPF_ALU64 && x && (o === op.BPF_ADD || o === op.BPF_SUB)) {
        // pointer +/- scalar: the scalar is the new offset; scalar + pointer: likewise.
        if (!(sc & d)) m |= s;
        if (!(sc & s)) m |= d;
      }
      return m;
    }
    case op.BPF_LDX: {
      if (out & d) {
        // The loaded value matters: so does what it was loaded from, when that may be the stack
        // (the bytes read, when the pointer is r10 plus a constant on the straight line here, as
        // clang's `r6 = r10; r6 += -64; ... r1 = *(u64 *)(r6 +8)`).
        const base = ins.src === 10 ? 0 : stackPtrs & s ? fpOffset(ins.src) : undefined;
        const slots = base !== undefined ? slotsOf(base + ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!) : undefined;
        const seen = slots || !(stackPtrs & s) ? undefined : readsSeen();
        if (slots) {
          sl.lo = (sl.lo | slots[0]) >>> 0;
          sl.hi = (sl.hi | slots[1]) >>> 0;
        } else if (seen) {
          sl.lo = (sl.lo | seen[0]!) >>> 0;
          sl.hi = (sl.hi | seen[1]!) >>> 0;
        } else if (stackPtrs & s) allSlots(sl);
        if (callerPtrs & s) sl.rd = true;
      }
      return (out & ~d) | s;
    }
    case op.BPF_ST: {
      // An 8-byte constant store to a slot replaces the whole slot.
      const slots = ins.dst === 10 && op.sizeOf(ins.code) === op.BPF_DW ? slotsOf(ins.off, 8) : undefined;
      if (slots) {
        sl.lo = (sl.lo & ~slots[0]) >>> 0;
        sl.hi = (sl.hi & ~slots[1]) >>> 0;
      }
      return out | d;
    }
    case op.BPF_STX: {
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) {
        if (stackPtrs & d) allSlots(sl);
        if (callerPtrs & d) sl.rd = true;
        if (ins.imm === op.BPF_LOAD_ACQ) return (out & ~d) | s;
        return out | d | s | (ins.imm === op.BPF_CMPXCHG ? 1 : 0);
      }
      if (ins.dst === 10) {
        // A spill through r10: an 8-byte one replaces the slot, and its value matters if the slot does.
        const slots = op.sizeOf(ins.code) === op.BPF_DW ? slotsOf(ins.off, 8) : undefined;
        if (slots) {
          const m = (sl.lo & slots[0]) | (sl.hi & slots[1]);
          sl.lo = (sl.lo & ~slots[0]) >>> 0;
          sl.hi = (sl.hi & ~slots[1]) >>> 0;
          return out | d | (m ? s : 0);
        }
        return out | d | s; // a narrower spill: kept as a sink
      }
      // Through another pointer that may reach the stack: the value is a sink.
      return out | d | (stackPtrs & d ? s : 0);
    }
    case op.BPF_LD:
      if (ins.code === op.OP_LDDW) return out & ~d;
      return (out & ~CALLER_SAVED) | bit(6) | (op.modeOf(ins.code) === op.BPF_IND ? s : 0);
    case op.BPF_JMP:
    case op.BPF_JMP32:
      if (o === op.BPF_EXIT) {
        sl.lo = NO_SLOTS;
        sl.hi = NO_SLOTS;
        sl.rd = false;
        return 1;
      }
      if (o === op.BPF_JA || o === op.BPF_JCOND) return out;
      if (o === op.BPF_CALL) {
        let args = ARGS;
        if (!x && ins.src === op.BPF_PSEUDO_HELPER) {
          const h = helperUse(ins.imm);
          args = h.args;
          if (h.readsStack && h.wholeStack) allSlots(sl);
          else if (h.readsStack) {
            // Through an argument that is r10 plus a constant here, the helper reads at most the
            // bytes from there up to the frame's top; through any other, perhaps every slot.
            const via = (h.stackArgs ?? ARGS) & stackPtrs;
            for (let r = 1; r <= 5; r++) {
              if (!(via & bit(r))) continue;
              const off = fpOffset(r);
              const size = h.keyArgs && h.keyArgs & bit(r) && h.mapArg ? keySize(h.mapArg) : undefined;
              if (size === 0) continue; // a key whose value no check reads
              const slots = off === undefined ? undefined : slotsOf(off, size !== undefined && size > 0 && size <= -off ? size : -off);
              if (!slots) {
                allSlots(sl);
                break;
              }
              sl.lo = (sl.lo | slots[0]) >>> 0;
              sl.hi = (sl.hi | slots[1]) >>> 0;
            }
          }
          if (h.readsStack && callerPtrs & (h.stackArgs ?? ARGS)) sl.rd = true;
        } else if (x || ins.src !== op.BPF_PSEUDO_CALL) {
          // a kfunc or an indirect call may read this stack, or a caller's, through a pointer
          allSlots(sl);
          sl.rd = true;
        } else if (callee.readsCaller && stackPtrs & callee.args) {
          // a function that reads through an argument that may point to this stack
          allSlots(sl);
          if (callerPtrs & callee.args) sl.rd = true;
        }
        // (A function reaches its caller's stack only through its arguments: stack pointers
        // are never stored outside the stack, and a function cannot return one. `callee`: the
        // arguments that matter at its entry — one outside them is never used as a pointer
        // there — and whether it reads, for a check, a value through a pointer that may come
        // from an argument (a load, an atomic, a helper or a call that reads through one).
        // Writes through such a pointer (`*res = val`) read nothing.)
        return (out & ~CALLER_SAVED) | args | (x ? d : 0);
      }
      return out | d | (x ? s : 0);
  }
  // Unknown classes: everything matters.
  allSlots(sl);
  sl.rd = true;
  return ALL;
}

/**
 * What matters before a conditional jump the walk has never decided (is_branch_taken gave no
 * answer and both sides were possible on every path it walked there): its operands matter only
 * through what its comparison narrows: the operands themselves, and the scalars sharing their id
 * (sync_linked_regs). So with a register operand both matter when either does after the jump
 * (backtrack_insn's `dreg <cond> sreg`), and both matter when a register or slot the walk saw
 * linked to them there (`links`, 3 words per jump) does (bt_sync_linked_regs). The kernel marks a
 * jump's operands precise only so, or when it decided the jump (mark_chain_precision after
 * is_branch_taken); a jump the walk decided, or met with a link into another frame, stays a sink
 * (mattersBefore), as does every jump when the walk's records are not used.
 *
 * Sound for pruning against a state all of whose paths the walk has finished, as
 * StackReadsSeen is: every decision and every link at this jump on those paths is recorded, so
 * on them it narrowed only its operands and what the record names, and both sides were walked.
 * A current state agreeing on what matters narrows them to within what one of those sides had
 * (more links in the current state only narrow it further), or takes one side only.
 */
function undecidedBranchBefore(ins: Insn, out: number, sl: Slots, links: Uint32Array | undefined, i: number): number {
  const ops = bit(ins.dst) | (op.sourceOf(ins.code) === op.BPF_X ? bit(ins.src) : 0);
  if (op.sourceOf(ins.code) === op.BPF_X && out & ops) return out | ops;
  if (links && ((out & links[3 * i]! & ~ops) || (sl.lo & links[3 * i + 1]!) || (sl.hi & links[3 * i + 2]!))) return out | ops;
  return out;
}

/**
 * Whether the conditional jump `if rX op imm` is taken when rX holds v, decided as the walk decides
 * it (scalarBranchTaken, is_scalar_branch_taken, on the constant and the immediate as
 * checkCondJmp makes it): an edge is dropped here only where the walk never follows it.
 */
function jumpTakenWith(ins: Insn, v: bigint): boolean | undefined {
  const jmp32 = op.classOf(ins.code) === op.BPF_JMP32;
  const imm = Scalar.known(jmp32 ? BigInt(ins.imm >>> 0) : BigInt(ins.imm));
  const taken = scalarBranchTaken(Scalar.known(v), imm, op.opOf(ins.code), jmp32);
  return taken === -1 ? undefined : taken === 1;
}

/**
 * The successor table without the edges of conditional jumps that compare a register holding a
 * constant (on the straight line before the jump) with an immediate: the walk decides such a
 * branch from the constant and never follows the other edge (is_branch_taken on a known
 * register), so no path the walk explores goes there, and what matters on that edge cannot
 * matter on any path it does explore.
 */
function withoutConstantBranches(insns: readonly Insn[], table: SuccessorTable, blockStart: Uint8Array, entries: readonly number[]): SuccessorTable {
  const n = insns.length;
  let off: Int32Array | undefined, to: Int32Array | undefined;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    let drop = -1;
    if (!table.second[i] && isCondJump(ins) && op.sourceOf(ins.code) === op.BPF_K && op.opOf(ins.code) !== op.BPF_JCOND) {
      const v = constValueBefore(insns, blockStart, i, ins.dst);
      const taken = v === undefined ? undefined : jumpTakenWith(ins, v);
      if (taken !== undefined) drop = taken ? i + 1 : jumpTarget(ins, i);
      if (jumpTarget(ins, i) === i + 1) drop = -1;
    }
    if (drop >= 0 && !off) {
      off = table.off.slice();
      to = table.to.slice();
      k = table.off[i]!;
    }
    if (!off || !to) continue;
    off[i] = k;
    for (let e = table.off[i]!; e < table.off[i + 1]!; e++) if (table.to[e] !== drop) to[k++] = table.to[e]!;
  }
  if (!off || !to) return table;
  off[n] = k;
  // An instruction only a dropped edge led to is never reached either: it keeps no successor,
  // so that the forward analyses, which visit every instruction, carry nothing from it.
  const reached = new Uint8Array(n);
  const work: number[] = [];
  for (const s of entries) if (s >= 0 && s < n && !reached[s]) (reached[s] = 1, work.push(s));
  while (work.length) {
    const i = work.pop()!;
    for (let e = off[i]!; e < off[i + 1]!; e++) if (!reached[to[e]!]) (reached[to[e]!] = 1, work.push(to[e]!));
  }
  const off2 = new Int32Array(n + 1), to2 = new Int32Array(to.length);
  k = 0;
  for (let i = 0; i < n; i++) {
    off2[i] = k;
    if (reached[i]) for (let e = off[i]!; e < off[i + 1]!; e++) to2[k++] = to[e]!;
  }
  off2[n] = k;
  return { off: off2, to: to2, second: table.second, forward: table.forward };
}

/**
 * The slots of its own frame each load the walk has verified read through a pointer other than
 * r10 (a copy of r10 plus a register the walk knows, `r1 = r10; r1 += -64; r1 += r7`), words
 * as in Precision.slots. A pruning decision compares against a state whose every path has been
 * walked, so the loads on those paths have all been seen: what a load reads on a path not yet
 * walked cannot matter to it (the kernel marks precise only the slot a fill on the path read:
 * backtrack_insn's stack access in the jump history). Consulted only where the pointer is not
 * r10 plus a constant on the straight line; undefined where no such load has been seen (every
 * slot may matter: the static rule).
 */
export interface StackReadsSeen {
  at(i: number): ReadonlyArray<number> | undefined;
}

/**
 * What the walk has recorded of a conditional jump (env.ts noteBranch), bits: BRANCH_SINK, it
 * decided the jump on some path (is_branch_taken, or one side impossible) or met it with another
 * scalar sharing an operand's id; BRANCH_FALL and BRANCH_TARGET, it went on to the next
 * instruction, or to the jump's target. The analysis follows only the edges taken (a jump never
 * reached has none) and makes the operands sinks only with BRANCH_SINK (undecidedBranchBefore).
 * Sound for pruning against a state all of whose paths the walk has finished, as StackReadsSeen
 * is: every edge those paths took, and every decision and link on them, is recorded, and a state
 * agreeing with it on what matters takes the same edges (a decided jump's operands matter).
 */
const NOTHING_READ: readonly number[] = [0, 0];
export const BRANCH_SINK = 1;
export const BRANCH_FALL = 2;
export const BRANCH_TARGET = 4;

/** Per instruction: the registers and the current function's stack slots whose value may matter from it on. */
export interface Precision {
  /** bit n = rn */
  regs: Uint16Array;
  /** bit spi of word 2*i (spi < 32) or 2*i+1 (spi - 32) */
  slots: Uint32Array;
  /** 1 where a value read through a pointer that may point to a caller's stack may matter on the way to the function's exit */
  readsCaller: Uint8Array;
  /** the slots some path may still access (stack-liveness.ts), words as in `slots` */
  live: Uint32Array;
  /** 1 where some path to the function's exit may access a caller's stack (stack-liveness.ts); all 0 in a program of one function */
  accessesCaller: Uint8Array;
  /**
   * solve again, in place, after the walk's records (StackReadsSeen, BRANCH_*) gave the
   * instructions in `dirty` more sinks
   */
  resolve?(dirty: readonly number[]): void;
}

/** Whether some path from instruction i may access stack slot `spi` of the current function (stack-liveness.ts). */
export function slotLive(p: Precision, i: number, spi: number): boolean {
  if (spi < 0 || spi >= 64) return true;
  const w = p.live[2 * i + (spi >> 5)]!;
  return ((w >>> (spi & 31)) & 1) === 1;
}

/** Whether stack slot `spi` (fp-8*(spi+1) .. fp-8*spi-1) may matter before instruction i. */
export function slotMatters(p: Precision, i: number, spi: number): boolean {
  if (spi < 0 || spi >= 64) return true;
  const w = p.slots[2 * i + (spi >> 5)]!;
  return ((w >>> (spi & 31)) & 1) === 1;
}

/**
 * For each instruction, the registers (bit n = rn) and stack slots whose value
 * before it may matter on some path from it. Registers and spilled values
 * outside the masks, when they hold scalars in both states, need not be
 * compared.
 */
export function computePrecise(
  insns: readonly Insn[],
  subprogStarts: readonly number[],
  helperUse: (helperId: number) => HelperUse = () => ({ args: ARGS, readsStack: true, wholeStack: true }),
  mainExitReadsR0 = true,
  mapKeySize: (lddw: number) => number | undefined = () => undefined,
  table: SuccessorTable = successorTable(insns),
  storeSinks = false,
  mapSizes: (lddw: number) => MapSizes | undefined = () => undefined,
  // whether the function starting at an instruction has global linkage (its body is verified on
  // its own; a call to it reads what its argument's BTF type covers): every slot a pointer reaches
  isGlobalFunc: (start: number) => boolean = () => true,
  stackReadsSeen?: StackReadsSeen,
  // whether a 4-byte read of the program's context at this offset gives a scalar (the program
  // type's ctx access rules); by default any may give a packet pointer
  ctxScalarAt: (off: number) => boolean = () => false,
  // what the walk has recorded of the conditional jump at an instruction (BRANCH_* bits);
  // absent: every conditional jump's operands are sinks and both its edges are followed
  walkedBranch?: (i: number) => number,
  // per conditional jump, 3 words: the registers and slots (lo, hi) of its frame the walk saw
  // linked to an operand there (undecidedBranchBefore)
  branchLinks?: Uint32Array,
): Precision {
  // storeSinks: the value of an 8-byte store through a pointer other than r10 is a sink too. A
  // map value's kptr field takes a scalar only if it is 0 (check_map_kptr_access marks it
  // precise), so programs whose maps hold kptrs (kptr.ts) ask for it.
  // mapKeySize(j): for the lddw at j of a map pointer, how many bytes of a key a lookup's checks
  // read (0: none, the key's value cannot change the verdict); undefined: unknown.
  const n = insns.length;
  // The main program's own instructions end where the first other function starts. Its exits
  // read r0's value only when the program type checks a return range (check_return_code; the
  // kernel marks R0 precise only then); a function's exit hands r0 to its caller, where it may
  // matter (the call's transfer above does not follow it), so those exits stay sinks.
  const mainEnd = Math.min(n, ...subprogStarts.filter((s) => s > 0));
  // (The fixpoints below run over every instruction once, then again over what changed: index
  // loops over the flat successor table, and one answer per helper id, as helperArgSinks builds
  // a new one per call.)
  // Instructions some path reaches other than from the one before them: jump targets and entries.
  const blockStart = new Uint8Array(n);
  for (let i = 0; i < n; i++) for (let e = table.off[i]!; e < table.off[i + 1]!; e++) if (table.to[e] !== i + (insns[i]!.code === op.OP_LDDW ? 2 : 1)) blockStart[table.to[e]!] = 1;
  for (const s of subprogStarts) if (s >= 0 && s < n) blockStart[s] = 1;
  // (every analysis below follows only the edges the walk may take)
  table = withoutConstantBranches(insns, table, blockStart, [0, ...subprogStarts]);
  const { off, to, second } = table;
  // Without loops, and with every bpf-to-bpf call going to a later function (whose entry the
  // backward pass reaches first), one pass in program order (forward analyses) or its reverse
  // (backward ones) reaches the fixpoint: the second pass would only confirm it.
  let oneBackwardPass = table.forward;
  for (let i = 0; i < n; i++) if (isPseudoCall(insns[i]!) && !second[i] && calleeStart(insns[i]!, i) <= i) oneBackwardPass = false;
  const uses = new Map<number, HelperUse>();
  const baseUse = helperUse;
  helperUse = (id) => {
    let u = uses.get(id);
    if (!u) uses.set(id, (u = baseUse(id)));
    return u;
  };

  // Forward: certainly-scalar registers before each instruction (must-analysis, greatest fixpoint).
  const scIn = new Uint16Array(n).fill(ALL);
  const isEntry = new Uint8Array(n);
  for (const s of subprogStarts) if (s >= 0 && s < n) isEntry[s] = 1;
  for (let i = 0; i < n; i++) if (isEntry[i]) scIn[i] = i === 0 ? ALL & ~bit(1) & ~bit(10) : ENTRY_SCALARS;
  // Forward: registers that may point to the stack, and those that may point to the context
  // (may-analyses, least fixpoints; the same transfer: copies, offsets, 8-byte loads).
  // (with the slots of each frame that may hold such a pointer, spilled: none at a function's entry)
  const mayPoint = (entryMain: number, entrySub: number | ((start: number) => number), always: number, viaStack?: Uint16Array, stackKind = true): Uint16Array => {
    const at = new Uint16Array(n);
    const atSlots = new Uint32Array(2 * n);
    const sl: Slots = { lo: 0, hi: 0 };
    for (let i = 0; i < n; i++) if (isEntry[i]) at[i] = i === 0 ? entryMain : typeof entrySub === 'number' ? entrySub : entrySub(i);
    const dirty = new Uint8Array(n).fill(1);
    for (let again = true; again;) {
      again = false;
      for (let i = 0; i < n; i++) {
        if (!dirty[i] || second[i]) continue;
        dirty[i] = 0;
        sl.lo = atSlots[2 * i]!;
        sl.hi = atSlots[2 * i + 1]!;
        const after = stackPtrsAfter(insns[i]!, at[i]!, sl, viaStack ? viaStack[i]! : at[i]!, stackKind) | always;
        for (let e = off[i]!, end = off[i + 1]!; e < end; e++) {
          const t = to[e]!;
          const v = at[t]! | after;
          const lo = (atSlots[2 * t]! | sl.lo) >>> 0, hi = (atSlots[2 * t + 1]! | sl.hi) >>> 0;
          if (v !== at[t] || lo !== atSlots[2 * t] || hi !== atSlots[2 * t + 1]) {
            at[t] = v;
            atSlots[2 * t] = lo;
            atSlots[2 * t + 1] = hi;
            dirty[t] = 1;
            if (t <= i) again = true;
          }
        }
      }
    }
    return at;
  };
  const spIn = mayPoint(bit(10), bit(10) | ARGS, bit(10));
  // How many bytes a helper call at i reads through r (HelperUse.reach), when the straight line
  // before the call tells: its map's lddw, or a constant moved into the size register.
  const reachBytes = (i: number, r: number, use: HelperUse): number | undefined => {
    const a = use.reach?.[r];
    if (!a) return undefined;
    if ('sizeArg' in a) return constBefore(insns, blockStart, i, a.sizeArg);
    const j = lddwBefore(insns, blockStart, i, a.map);
    const m = j === undefined ? undefined : mapSizes(j);
    return m === undefined ? undefined : a.part === 'key' ? m.keySize : m.valueSize;
  };
  const ctxIn = mayPoint(bit(1), ARGS, 0, spIn, false);
  // (and those that may point to a caller's stack: a function's arguments, copies, offsets, 8-byte loads)
  // A function's arguments that may point to a caller's stack: those that may point to the stack
  // at one of its call sites; all five for a function also called some other way (a callback).
  const argsFromCallers = new Uint16Array(n), calledOtherwise = new Uint8Array(n), called = new Uint8Array(n);
  let otherFrames = mainEnd < n;
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (second[i]) continue;
    if (isPseudoCall(ins) || isPseudoFunc(ins)) otherFrames = true;
    const t = calleeStart(ins, i);
    if (t < 0 || t >= n) continue;
    if (isPseudoCall(ins)) {
      called[t] = 1;
      argsFromCallers[t]! |= spIn[i]! & ARGS;
    } else if (isPseudoFunc(ins)) calledOtherwise[t] = 1;
  }
  // Without another function, a bpf-to-bpf call or a function pointer (a callback), the walk never has a frame
  // above main's, and main has no caller: readsCaller and accessesCaller are only asked of the
  // frames below the top one (env.ts callerSlotsAt), so neither analysis needs to run.
  const callerIn = otherFrames ? mayPoint(0, (s) => (called[s] && !calledOtherwise[s] ? argsFromCallers[s]! : ARGS), 0, spIn) : new Uint16Array(n);
  const accessesCaller = otherFrames ? computeCallerAccess(insns, table, callerIn, helperUse) : new Uint8Array(n);
  // What each function reads through the stack pointers it is given (stack-liveness.ts
  // computeCalleeReach), for the slots a call to it reads in its caller's frame.
  const starts = [...new Set(subprogStarts.filter((x) => x >= 0 && x < n))].sort((a, b) => a - b);
  const entryOnly = new Uint8Array(n);
  for (const x of starts) entryOnly[x] = 1;
  for (let i = 0; i < n; i++) {
    if (second[i]) continue;
    const next = i + (insns[i]!.code === op.OP_LDDW ? 2 : 1);
    for (let e = off[i]!; e < off[i + 1]!; e++) if (to[e] !== next) entryOnly[to[e]!] = 0;
  }
  const reachOf = new Map<number, CalleeReach | null>(); // null: being computed (recursion: unknown)
  const calleeReads = (i: number): CalleeReach | undefined => {
    const t = calleeStart(insns[i]!, i);
    if (t <= 0 || t >= n || !entryOnly[t] || isGlobalFunc(t)) return undefined;
    const known = reachOf.get(t);
    if (known !== undefined) return known ?? undefined;
    reachOf.set(t, null);
    const end = starts.find((x) => x > t) ?? n;
    const r = computeCalleeReach(insns, t, end, second, callerIn, (j, reg) => argOffsetBefore(insns, blockStart, entryOnly, j, reg), helperUse,
      calleeReads, (j) => isGlobalFunc(calleeStart(insns[j]!, j)), reachBytes);
    reachOf.set(t, r);
    return r;
  };
  const live = computeStackLiveness(insns, table, spIn, slotsOf, (i, r) => fpOffsetBefore(insns, blockStart, i, r), helperUse, reachBytes,
    otherFrames ? calleeReads : undefined);
  // (with the slots that may hold a spilled pointer: a may-set growing from none, iterated together)
  const mpIn = new Uint32Array(2 * n);
  const mp: Slots = { lo: 0, hi: 0 };
  const scDirty = new Uint8Array(n).fill(1);
  for (let again = true; again;) {
    again = false;
    for (let i = 0; i < n; i++) {
      if (!scDirty[i] || second[i]) continue;
      scDirty[i] = 0;
      mp.lo = mpIn[2 * i]!;
      mp.hi = mpIn[2 * i + 1]!;
      const after = scalarsAfter(insns[i]!, scIn[i]!, ctxIn[i]!, spIn[i]!, mp, helperUse, ctxScalarAt) & ~bit(10);
      for (let e = off[i]!, end = off[i + 1]!; e < end; e++) {
        const t = to[e]!;
        const v = scIn[t]! & after;
        const lo = (mpIn[2 * t]! | mp.lo) >>> 0, hi = (mpIn[2 * t + 1]! | mp.hi) >>> 0;
        if (v !== scIn[t] || lo !== mpIn[2 * t] || hi !== mpIn[2 * t + 1]) {
          scIn[t] = v;
          mpIn[2 * t] = lo;
          mpIn[2 * t + 1] = hi;
          scDirty[t] = 1;
          if (t <= i) again = true;
        }
      }
    }
  }

  // Backward: registers and slots whose value may reach a sink (least fixpoint).
  const matters = new Uint16Array(n);
  // The arguments a bpf-to-bpf call's target uses (what matters at its first instruction,
  // from the same fixpoint: it only grows, so the slots it makes matter only grow too).
  const readsCaller = new Uint8Array(n);
  const anyCallee = { args: ARGS, readsCaller: true };
  const calleeAt = (i: number): { args: number; readsCaller: boolean } => {
    const ins = insns[i]!;
    const t = calleeStart(ins, i);
    if (!isPseudoCall(ins) || t < 0 || t >= n) return anyCallee;
    return { args: matters[t]! & ARGS, readsCaller: readsCaller[t] === 1 };
  };
  // the instruction the two closures below answer for (one pair for the whole fixpoint)
  let at = 0;
  const fpOffset = (r: number): number | undefined => fpOffsetBefore(insns, blockStart, at, r);
  // (with the walk's jump records too, a load the walk has not run yet reads nothing: it lies on
  // no path of a state whose every path has been walked, the only kind pruned against)
  const readsSeen = (): ReadonlyArray<number> | undefined => stackReadsSeen?.at(at) ?? (walkedBranch ? NOTHING_READ : undefined);
  const keySize = (r: number): number | undefined => {
    const j = lddwBefore(insns, blockStart, at, r);
    return j === undefined ? undefined : mapKeySize(j);
  };
  const slots = new Uint32Array(2 * n);
  const sl: Slots = { lo: 0, hi: 0 };
  const inputChanged = (i: number, since: number): boolean => {
    for (let e = off[i]!, end = off[i + 1]!; e < end; e++) if (stamp[to[e]!]! >= since) return true;
    const ins = insns[i]!;
    if (!isPseudoCall(ins)) return false;
    const t = calleeStart(ins, i);
    return t >= 0 && t < n && stamp[t]! >= since;
  };
  // (stamp[i]: the last pass that changed what instruction i has; a pass after the first redoes
  // only the instructions with a successor, or a callee's entry, changed since their last turn)
  const stamp = new Int32Array(n);
  let passNo = 0;
  // One solve from nothing, or (`dirty`) again from the last solution after the walk's records
  // gave the instructions in `dirty` more sinks: every transfer only grows with them, so the last
  // solution lies below the new least fixpoint and iterating from it reaches that fixpoint.
  const solve = (dirty?: readonly number[]): void => {
    const mark = dirty ? new Uint8Array(n) : undefined;
    if (dirty && mark) for (const d of dirty) mark[d] = 1;
    const first = passNo + 1;
    for (let pass = first, changed = true; changed; changed &&= !oneBackwardPass, pass++) {
      passNo = pass;
      changed = false;
      for (let i = n - 1; i >= 0; i--) {
        if (second[i]) continue;
        if (pass === first ? mark && !mark[i] && !inputChanged(i, pass) : !inputChanged(i, pass - 1)) continue;
        let out = 0;
        sl.lo = 0;
        sl.hi = 0;
        sl.rd = false;
        const ins = insns[i]!;
        // (a conditional jump, with the walk's records: only the edges it has taken)
        const walked = walkedBranch && isCondJump(ins) && op.opOf(ins.code) !== op.BPF_JCOND ? walkedBranch(i) : -1;
        for (let e = off[i]!, end = off[i + 1]!; e < end; e++) {
          const t = to[e]!;
          if (walked >= 0 && !(walked & (t === i + 1 ? BRANCH_FALL : 0)) && !(walked & (t === jumpTarget(ins, i) ? BRANCH_TARGET : 0))) continue;
          if (readsCaller[t]) sl.rd = true;
          out |= matters[t]!;
          sl.lo = (sl.lo | slots[2 * t]!) >>> 0;
          sl.hi = (sl.hi | slots[2 * t + 1]!) >>> 0;
        }
        at = i;
        let v = !mainExitReadsR0 && i < mainEnd && ins.code === op.OP_EXIT
          ? (sl.lo = sl.hi = NO_SLOTS, sl.rd = false, 0)
          : walked >= 0 && !(walked & BRANCH_SINK) ? undecidedBranchBefore(ins, out, sl, branchLinks, i)
          : mattersBefore(insns[i]!, out, sl, scIn[i]!, spIn[i]!, helperUse, callerIn[i]!, insns[i]!.code === op.OP_CALL ? calleeAt(i) : anyCallee,
            fpOffset, keySize, readsSeen) & ALL;
        if (storeSinks && isDwStore(insns[i]!)) v |= bit(insns[i]!.src);
        const rd = sl.rd ? 1 : 0;
        if (v !== matters[i] || sl.lo !== slots[2 * i] || sl.hi !== slots[2 * i + 1] || rd !== readsCaller[i]) {
          readsCaller[i] = rd;
          stamp[i] = pass;
          matters[i] = v;
          slots[2 * i] = sl.lo;
          slots[2 * i + 1] = sl.hi;
          changed = true;
        }
      }
    }
  };
  solve();
  return { regs: matters, slots, readsCaller, live, accessesCaller, resolve: solve };
}
