/**
 * Which stack slots of the current function some path from an instruction
 * may still access: the static counterpart of the kernel's stack-slot
 * liveness (REG_LIVE_READ marks on spilled_ptr, set by mark_reg_read from
 * check_stack_read and check_stack_range_initialized, and consulted by
 * stacksafe(), which skips a slot the explored state never read).
 *
 * A slot nothing on any path from instruction i touches again before the
 * function returns cannot change a check on the way: whatever its bytes
 * hold, the paths from i do the same. states_equal() may then ignore it,
 * bytes and spilled register alike. Precision (precision.ts) asks a finer
 * question of the slots that stay: whether a spilled scalar's *value*
 * matters.
 *
 * Unlike the kernel, a write counts as an access too, never as a kill: the
 * kernel checks what a store overwrites (a dynptr or an iterator slot
 * cannot be overwritten, destroy_if_dynptr_stack_slot and
 * is_stack_slot_special), so the old bytes may decide a verdict.
 *
 * Accesses: a load or store through r10 plus a constant touches the slots it
 * covers; any other load, store or atomic through a pointer that may point
 * to the stack touches every slot; a call (helper, kfunc, function, callback
 * helper) with an argument that may point to the stack touches the slots
 * from a known r10 offset up to the frame's top, or every slot when the
 * offset is not known. An exit ends the frame: nothing is live after it.
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';

const ALL_SLOTS = 0xffffffff;
const ARGS = 0b111110; // r1..r5
const SIZE_BYTES: Record<number, number> = { [op.BPF_B]: 1, [op.BPF_H]: 2, [op.BPF_W]: 4, [op.BPF_DW]: 8 };

/** The slot words (spi 0..31, 32..63) covered by bytes [off, off + size) below r10; undefined when outside the frame. */
export type SlotsOf = (off: number, size: number) => readonly [number, number] | undefined;

/**
 * Slots (lo, hi words) instruction `ins` accesses, given the registers that may point to the
 * stack before it and, for r1..r5, the constant r10 offset they hold when known.
 */
function accessed(ins: Insn, stackPtrs: number, slotsOf: SlotsOf, fpOffset: (r: number) => number | undefined): readonly [number, number] {
  const cls = op.classOf(ins.code);
  const all: readonly [number, number] = [ALL_SLOTS, ALL_SLOTS];
  const none: readonly [number, number] = [0, 0];
  const through = (base: number, off: number, size: number): readonly [number, number] => {
    if (base === 10) return slotsOf(off, size) ?? none; // (an access outside the frame is refused)
    return stackPtrs & (1 << base) ? all : none;
  };
  switch (cls) {
    case op.BPF_LDX:
      return through(ins.src, ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!);
    case op.BPF_ST:
      return through(ins.dst, ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!);
    case op.BPF_STX:
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) return stackPtrs & (1 << ins.dst) ? all : none;
      return through(ins.dst, ins.off, SIZE_BYTES[op.sizeOf(ins.code)]!);
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      if (op.opOf(ins.code) !== op.BPF_CALL) return none;
      // An indirect call or a kfunc: no arguments known to be harmless.
      const via = stackPtrs & ARGS;
      let lo = 0, hi = 0;
      for (let r = 1; r <= 5; r++) {
        if (!(via & (1 << r))) continue;
        const off = fpOffset(r);
        const s = off === undefined ? undefined : slotsOf(off, -off);
        if (!s) return all;
        lo |= s[0];
        hi |= s[1];
      }
      return [lo >>> 0, hi >>> 0];
    }
  }
  return none;
}

/**
 * Per instruction i, words 2i and 2i+1: the slots some path from i may access before its
 * function returns (a least fixpoint, backward over `succ`).
 */
export function computeStackLiveness(
  insns: readonly Insn[],
  succ: readonly (readonly number[])[],
  skip: (i: number) => boolean,
  stackPtrsIn: Uint16Array,
  slotsOf: SlotsOf,
  fpOffsetAt: (i: number, r: number) => number | undefined,
): Uint32Array {
  const n = insns.length;
  const live = new Uint32Array(2 * n);
  const own = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    if (skip(i)) continue;
    const a = accessed(insns[i]!, stackPtrsIn[i]!, slotsOf, (r) => fpOffsetAt(i, r));
    own[2 * i] = a[0];
    own[2 * i + 1] = a[1];
  }
  for (let changed = true; changed;) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (skip(i)) continue;
      let lo = own[2 * i]!, hi = own[2 * i + 1]!;
      if (insns[i]!.code !== op.OP_EXIT) {
        for (const t of succ[i]!) {
          lo |= live[2 * t]!;
          hi |= live[2 * t + 1]!;
        }
      }
      lo >>>= 0;
      hi >>>= 0;
      if (lo !== live[2 * i] || hi !== live[2 * i + 1]) {
        live[2 * i] = lo;
        live[2 * i + 1] = hi;
        changed = true;
      }
    }
  }
  return live;
}
