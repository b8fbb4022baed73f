/**
 * Comparisons in the scalar domain: whether a conditional jump is decided
 * by what is known (is_scalar_branch_taken), and the bounds each side of it
 * learns (regs_refine_cond_op), for 64- and 32-bit jumps.
 */
import * as op from '../isa/opcodes.js';
import { tnumConst, tnumIsConst, tnumIntersect, tnumSubreg, tnumOr, tnumAnd, tnumWithSubreg, tnumOverlap, tnumSubregIsConst } from './tnum.js';
import { Scalar, u64, max, min, lo32, toS64, toU64 } from './scalar.js';

/** Swap the operands of a comparison: a > b is b < a. */
export function flipCond(opc: number): number {
  switch (opc) {
    case op.BPF_JGE: return op.BPF_JLE;
    case op.BPF_JGT: return op.BPF_JLT;
    case op.BPF_JLE: return op.BPF_JGE;
    case op.BPF_JLT: return op.BPF_JGT;
    case op.BPF_JSGE: return op.BPF_JSLE;
    case op.BPF_JSGT: return op.BPF_JSLT;
    case op.BPF_JSLE: return op.BPF_JSGE;
    case op.BPF_JSLT: return op.BPF_JSGT;
    default: return opc;
  }
}

/** JSET negated; the kernel spells it JSET|X internally. */
const JSET_NOT = op.BPF_JSET | op.BPF_X;

/** The condition that holds on the fall-through side. */
export function negateCond(opc: number): number {
  switch (opc) {
    case op.BPF_JEQ: return op.BPF_JNE;
    case op.BPF_JNE: return op.BPF_JEQ;
    case op.BPF_JSET: return JSET_NOT;
    case JSET_NOT: return op.BPF_JSET;
    case op.BPF_JGE: return op.BPF_JLT;
    case op.BPF_JGT: return op.BPF_JLE;
    case op.BPF_JLE: return op.BPF_JGT;
    case op.BPF_JLT: return op.BPF_JGE;
    case op.BPF_JSGE: return op.BPF_JSLT;
    case op.BPF_JSGT: return op.BPF_JSLE;
    case op.BPF_JSLE: return op.BPF_JSGT;
    case op.BPF_JSLT: return op.BPF_JSGE;
    default: return 0;
  }
}

/** 1 if `a OP b` always holds, 0 if never, -1 when it depends. */
export function scalarBranchTaken(a: Scalar, b: Scalar, opc: number, jmp32: boolean): 0 | 1 | -1 {
  switch (opc) {
    case op.BPF_JEQ:
    case op.BPF_JNE: {
      // Both constants: decided by their values; otherwise only disjoint ranges decide (never equal).
      let bothConst: boolean, same: boolean;
      if (jmp32) {
        bothConst = tnumSubregIsConst(a.varOff) && tnumSubregIsConst(b.varOff);
        same = bothConst && lo32(a.varOff.value) === lo32(b.varOff.value);
      } else {
        bothConst = tnumIsConst(a.varOff) && tnumIsConst(b.varOff);
        same = bothConst && a.varOff.value === b.varOff.value;
      }
      const eq = bothConst ? same : disjoint(a, b, jmp32) ? false : undefined;
      if (eq === undefined) return -1;
      return eq === (opc === op.BPF_JEQ) ? 1 : 0;
    }
    case op.BPF_JSET: {
      const t1 = jmp32 ? tnumSubreg(a.varOff) : a.varOff;
      const t2 = jmp32 ? tnumSubreg(b.varOff) : b.varOff;
      let x = t1, y = t2, yc = b.isConstIn(jmp32);
      if (!yc) { x = t2; y = t1; yc = a.isConstIn(jmp32); }
      if (!yc) return -1;
      if ((~x.mask & x.value) & y.value) return 1;
      if (!((x.mask | x.value) & y.value)) return 0;
      return -1;
    }
    case JSET_NOT: {
      const r = scalarBranchTaken(a, b, op.BPF_JSET, jmp32);
      return r === -1 ? -1 : r === 1 ? 0 : 1;
    }
  }
  return jmp32
    ? ordered(opc, a.u32min, a.u32max, a.s32min, a.s32max, b.u32min, b.u32max, b.s32min, b.s32max)
    : ordered(opc, a.umin, a.umax, a.smin, a.smax, b.umin, b.umax, b.smin, b.smax);
}

/** No value satisfies both operands' views (the register-width ones; a 64-bit jump also looks at the 32-bit views). */
function disjoint(a: Scalar, b: Scalar, jmp32: boolean): boolean {
  if (jmp32) {
    const am = lo32(a.varOff.mask), bm = lo32(b.varOff.mask);
    const mu = ~am & ~bm;
    if (((lo32(a.varOff.value) & mu) >>> 0) !== ((lo32(b.varOff.value) & mu) >>> 0)) return true; // !tnum_overlap
  } else {
    if (!tnumOverlap(a.varOff, b.varOff)) return true;
    if (a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin) return true;
  }
  return a.u32min > b.u32max || a.u32max < b.u32min || a.s32min > b.s32max || a.s32max < b.s32min;
}

/** The range comparisons of is_scalar_branch_taken, on one width's bounds (bigints or numbers). */
function ordered<T extends number | bigint>(opc: number, umin1: T, umax1: T, smin1: T, smax1: T, umin2: T, umax2: T, smin2: T, smax2: T): 0 | 1 | -1 {
  switch (opc) {
    case op.BPF_JGT: return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case op.BPF_JSGT: return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case op.BPF_JLT: return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case op.BPF_JSLT: return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case op.BPF_JGE: return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case op.BPF_JSGE: return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case op.BPF_JLE: return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case op.BPF_JSLE: return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
  }
  return -1;
}

/**
 * Narrow both operands assuming `r1 OP r2` holds (regs_refine_cond_op),
 * then reconcile their bounds. Either may be a constant made up for a K
 * operand.
 */
function refineCond(r1: Scalar, r2: Scalar, opc: number, jmp32: boolean): void {
  if (opc === op.BPF_JGE || opc === op.BPF_JGT || opc === op.BPF_JSGE || opc === op.BPF_JSGT) {
    opc = flipCond(opc);
    [r1, r2] = [r2, r1];
  }
  switch (opc) {
    case op.BPF_JEQ:
      if (jmp32) {
        r1.u32min = Math.max(r1.u32min, r2.u32min); r1.u32max = Math.min(r1.u32max, r2.u32max);
        r1.s32min = Math.max(r1.s32min, r2.s32min); r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min; r2.u32max = r1.u32max; r2.s32min = r1.s32min; r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = max(r1.umin, r2.umin); r1.umax = min(r1.umax, r2.umax);
        r1.smin = max(r1.smin, r2.smin); r1.smax = min(r1.smax, r2.smax);
        r2.umin = r1.umin; r2.umax = r1.umax; r2.smin = r1.smin; r2.smax = r1.smax;
        r1.varOff = tnumIntersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case op.BPF_JNE: {
      if (!r2.isConstIn(jmp32)) [r1, r2] = [r2, r1];
      if (!r2.isConstIn(jmp32)) break;
      const v = r2.constValue(jmp32);
      // Only an excluded value at the edge of a range narrows it.
      if (jmp32) {
        const lo = lo32(v);
        if (r1.u32min === lo) r1.u32min++;
        if (r1.u32max === lo) r1.u32max--;
        if (r1.s32min === (lo | 0)) r1.s32min++;
        if (r1.s32max === (lo | 0)) r1.s32max--;
      } else {
        if (r1.umin === v) r1.umin++;
        if (r1.umax === v) r1.umax--;
        const sv = toS64(v);
        if (r1.smin === sv) r1.smin++;
        if (r1.smax === sv) r1.smax--;
      }
      break;
    }
    case op.BPF_JSET: {
      if (!r2.isConstIn(jmp32)) [r1, r2] = [r2, r1];
      if (!r2.isConstIn(jmp32)) break;
      const v = r2.constValue(jmp32);
      if (v === 0n || (v & (v - 1n)) !== 0n) break; // only a single-bit test pins that bit
      if (jmp32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(v)));
      else r1.varOff = tnumOr(r1.varOff, tnumConst(v));
      break;
    }
    case JSET_NOT: {
      if (!r2.isConstIn(jmp32)) [r1, r2] = [r2, r1];
      if (!r2.isConstIn(jmp32)) break;
      const v = r2.constValue(jmp32);
      r1.markUnbounded();
      if (jmp32) r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), tnumConst(u64(~v))));
      else r1.varOff = tnumAnd(r1.varOff, tnumConst(u64(~v)));
      break;
    }
    case op.BPF_JLE:
      if (jmp32) { r1.u32max = Math.min(r1.u32max, r2.u32max); r2.u32min = Math.max(r1.u32min, r2.u32min); }
      else { r1.umax = min(r1.umax, r2.umax); r2.umin = max(r1.umin, r2.umin); }
      break;
    case op.BPF_JLT:
      if (jmp32) { r1.u32max = Math.min(r1.u32max, (r2.u32max - 1) >>> 0); r2.u32min = Math.max((r1.u32min + 1) >>> 0, r2.u32min); }
      else { r1.umax = min(r1.umax, toU64(r2.umax - 1n)); r2.umin = max(toU64(r1.umin + 1n), r2.umin); }
      break;
    case op.BPF_JSLE:
      if (jmp32) { r1.s32max = Math.min(r1.s32max, r2.s32max); r2.s32min = Math.max(r1.s32min, r2.s32min); }
      else { r1.smax = min(r1.smax, r2.smax); r2.smin = max(r1.smin, r2.smin); }
      break;
    case op.BPF_JSLT:
      if (jmp32) { r1.s32max = Math.min(r1.s32max, (r2.s32max - 1) | 0); r2.s32min = Math.max((r1.s32min + 1) | 0, r2.s32min); }
      else { r1.smax = min(r1.smax, toS64(r2.smax - 1n)); r2.smin = max(toS64(r1.smin + 1n), r2.smin); }
      break;
  }
}

/** Both sides of a branch on scalars: [taken, not taken] copies of (a, b), each synced; null where infeasible. */
export function branchScalars(a: Scalar, b: Scalar, opc: number, jmp32: boolean): { t: [Scalar, Scalar] | null; f: [Scalar, Scalar] | null } {
  const out: BranchSides = { ta: null, tb: null, fa: null, fb: null };
  branchScalarsInto(a, b, opc, jmp32, true, out);
  return { t: out.ta ? [out.ta, out.tb!] : null, f: out.fa ? [out.fa, out.fb!] : null };
}

/** What branchScalarsInto learnt: each side's refined operands, null where that side is infeasible. */
export interface BranchSides {
  ta: Scalar | null;
  tb: Scalar | null;
  fa: Scalar | null;
  fb: Scalar | null;
}

/**
 * branchScalars into `out`, which the caller reuses (a conditional jump is one of the commonest
 * instructions: the result arrays were a fifth of what a branch allocated). Without `keepB`, b's
 * refined copies are still made, synced and tested for emptiness (reg_set_min_max does the same
 * to the kernel's fake register for an immediate) but not handed out: out.tb and out.fb stay null.
 * (Scratch scalars kept across calls for them cost more than the copies: every store of a new
 * bigint into an object the collector has promoted goes through its write barrier.)
 */
export function branchScalarsInto(a: Scalar, b: Scalar, opc: number, jmp32: boolean, keepB: boolean, out: BranchSides): void {
  const ta = a.clone(), tb = b.clone(), fa = a.clone(), fb = b.clone();
  refineCond(ta, tb, opc, jmp32); ta.sync(); tb.sync();
  refineCond(fa, fb, negateCond(opc), jmp32); fa.sync(); fb.sync();
  const tOk = !(ta.isEmpty() || tb.isEmpty()), fOk = !(fa.isEmpty() || fb.isEmpty());
  out.ta = tOk ? ta : null;
  out.tb = tOk && keepB ? tb : null;
  out.fa = fOk ? fa : null;
  out.fb = fOk && keepB ? fb : null;
}
