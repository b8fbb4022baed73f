/**
 * The scalar domain: what the verifier knows about a 64-bit value, as the
 * kernel's bpf_reg_state keeps it (kernel/bpf/verifier.c): a tnum plus signed
 * and unsigned bounds of the whole register and of its low 32 bits. After
 * each operation the five views are reconciled with each other
 * (reg_bounds_sync), so that a fact learned in one view (say, `if w1 s< 8`)
 * tightens the others.
 *
 * 64-bit bounds are bigints: smin/smax signed, umin/umax in [0, 2^64). The
 * 32-bit bounds are plain numbers (s32 signed, u32 unsigned): they fit a
 * double exactly, and bigint arithmetic allocates a heap object per result,
 * which on large programs made the garbage collector a quarter of the
 * verification time. A 32-bit half of a 64-bit bigint (lo32/hi32, from
 * tnum.ts) is read through a typed array, without Number()'s cost or a
 * bigint allocated, and the tnum operations run on such halves.
 *
 * This module holds the domain and its reconciliation; scalar-alu.ts is how
 * an ALU operation changes it, scalar-branch.ts what a comparison decides
 * and teaches each side.
 */
import { tnumConst, type Tnum, U64, U32, tnumIsConst, tnumUnknown, tnumRange, tnumIntersect, tnumSubreg, tnumClearSubreg, tnumOr, tnumSubregIsConst, tnumCast, tnumContains, tnumIn, lo32, hi32, small32, tnumWithLow, smallBig } from './tnum.js';

export { lo32, hi32 };

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
/** The 32-bit bounds' limits, as numbers. */
export const S32_MIN = -0x80000000;
export const S32_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
export const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
// Hoisted so that the hot paths below do not rebuild them on every call.
const BIT63 = 1n << 63n;
const HI32 = U64 ^ U32;
const S32_MIN_BIG = -(1n << 31n);
const S32_MAX_BIG = (1n << 31n) - 1n;
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
/** s64(v) that returns an in-range v itself (BigInt.asIntN allocates a new bigint even then). */
export const toS64 = (v: bigint): bigint => (v >= S64_MIN && v <= S64_MAX ? v : s64(v));
/** u64(v), likewise. */
export const toU64 = (v: bigint): bigint => (v >= 0n && v <= U64 ? v : u64(v));

/** BigInt(n) for the small non-negative numbers the 32-bit views hand to the 64-bit ones, without allocating. */
function big(n: number): bigint {
  if (n >= 0 && n <= 1024) return smallBig(n);
  if (n === U32_MAX) return U32;
  return BigInt(n);
}

export class Scalar {
  constructor(
    public varOff: Tnum = tnumUnknown,
    public smin = S64_MIN,
    public smax = S64_MAX,
    public umin = 0n,
    public umax = U64,
    public s32min = S32_MIN,
    public s32max = S32_MAX,
    public u32min = 0,
    public u32max = U32_MAX,
  ) {}

  static unknown(): Scalar {
    return new Scalar();
  }

  static known(v: bigint): Scalar {
    const s = new Scalar();
    s.markKnown(v);
    return s;
  }

  /** Values in [lo, hi] unsigned (a zero-extended load of `size` bytes uses [0, 2^(8 size) - 1]). */
  static urange(lo: bigint, hi: bigint): Scalar {
    const s = new Scalar(tnumRange(lo, hi));
    s.umin = lo;
    s.umax = hi;
    s.sync();
    return s;
  }

  clone(): Scalar {
    return new Scalar(this.varOff, this.smin, this.smax, this.umin, this.umax, this.s32min, this.s32max, this.u32min, this.u32max);
  }

  markKnown(v: bigint): void {
    const u = v >= 0n && v <= U64 ? v : u64(v);
    this.varOff = tnumConst(u);
    this.smin = this.smax = u <= S64_MAX ? u : s64(u);
    this.umin = this.umax = u;
    const lo = lo32(u);
    this.u32min = this.u32max = lo;
    this.s32min = this.s32max = lo | 0;
  }

  /** The subregister is the constant `v` (unsigned 32-bit). */
  markKnown32(v: number): void {
    this.varOff = tnumWithLow(this.varOff, v, 0);
    this.s32min = this.s32max = v | 0;
    this.u32min = this.u32max = v;
  }

  markUnbounded(): void {
    this.mark64Unbounded();
    this.mark32Unbounded();
  }

  mark64Unbounded(): void {
    this.smin = S64_MIN; this.smax = S64_MAX; this.umin = 0n; this.umax = U64;
  }

  mark32Unbounded(): void {
    this.s32min = S32_MIN; this.s32max = S32_MAX; this.u32min = 0; this.u32max = U32_MAX;
  }

  markUnknown(): void {
    this.varOff = tnumUnknown;
    this.markUnbounded();
  }

  isConst(): boolean {
    return tnumIsConst(this.varOff);
  }

  /** A constant in every view (tnum and all four ranges agree on one value). */
  isExactConst(): boolean {
    const v = this.varOff.value;
    if (this.varOff.mask !== 0n || this.umin !== v || this.umax !== v || this.smax !== this.smin) return false;
    // s64(v) without allocating: equal to v below 2^63, v - 2^64 above
    if (v <= S64_MAX ? this.smin !== v : this.smin !== s64(v)) return false;
    const lo = lo32(v);
    return this.u32min === lo && this.u32max === lo && this.s32min === (lo | 0) && this.s32max === this.s32min;
  }

  /** The kernel's is_reg_const: a constant in the 64- or 32-bit view. */
  isConstIn(jmp32: boolean): boolean {
    return jmp32 ? tnumSubregIsConst(this.varOff) : tnumIsConst(this.varOff);
  }

  constValue(jmp32: boolean): bigint {
    return jmp32 ? this.varOff.value & U32 : this.varOff.value;
  }

  isUnknown(): boolean {
    return this.varOff.mask === U64 && this.smin === S64_MIN && this.smax === S64_MAX && this.umin === 0n &&
      this.umax === U64 && this.s32min === S32_MIN && this.s32max === S32_MAX && this.u32min === 0 && this.u32max === U32_MAX;
  }

  /** Whether the concrete 64-bit value v satisfies every view (for property tests and the fuzzer). */
  contains(v: bigint): boolean {
    const u = v >= 0n && v <= U64 ? v : u64(v);
    const s = u <= S64_MAX ? u : s64(u);
    const lo = lo32(u), slo = lo | 0;
    return tnumContains(this.varOff, u) && u >= this.umin && u <= this.umax && s >= this.smin && s <= this.smax &&
      lo >= this.u32min && lo <= this.u32max && slo >= this.s32min && slo <= this.s32max;
  }

  /** No concrete value satisfies every view (an infeasible branch). */
  isEmpty(): boolean {
    return this.umin > this.umax || this.smin > this.smax || this.u32min > this.u32max || this.s32min > this.s32max ||
      (tnumIsConst(this.varOff) && !this.boundsContain(this.varOff.value));
  }

  /**
   * contains(v) for v the value of this scalar's constant tnum: the tnum test, which such a
   * v passes by construction, left out with its temporaries.
   */
  private boundsContain(v: bigint): boolean {
    if (v < 0n || v > U64) return false; // (an unnormalised tnum: tnum_contains fails, as in contains())
    const s = v <= S64_MAX ? v : s64(v);
    const lo = lo32(v), slo = lo | 0;
    return v >= this.umin && v <= this.umax && s >= this.smin && s <= this.smax &&
      lo >= this.u32min && lo <= this.u32max && slo >= this.s32min && slo <= this.s32max;
  }

  /** Every value of `other` is a value of this (range_within + tnum_in, as regsafe uses it). */
  includes(other: Scalar): boolean {
    return this.umin <= other.umin && this.umax >= other.umax && this.smin <= other.smin && this.smax >= other.smax &&
      this.u32min <= other.u32min && this.u32max >= other.u32max && this.s32min <= other.s32min &&
      this.s32max >= other.s32max && tnumIn(this.varOff, other.varOff);
  }

  equals(o: Scalar): boolean {
    return this.varOff.value === o.varOff.value && this.varOff.mask === o.varOff.mask && this.smin === o.smin &&
      this.smax === o.smax && this.umin === o.umin && this.umax === o.umax && this.s32min === o.s32min &&
      this.s32max === o.s32max && this.u32min === o.u32min && this.u32max === o.u32max;
  }

  // --- bounds reconciliation (__update_reg_bounds, __reg_deduce_bounds, __reg_bound_offset) ---

  /** __update_reg32_bounds */
  updateBounds32(): void {
    const tv = lo32(this.varOff.value), tm = lo32(this.varOff.mask);
    this.s32min = Math.max(this.s32min, tv | (tm & 0x80000000));
    this.s32max = Math.min(this.s32max, tv | (tm & 0x7fffffff));
    this.u32min = Math.max(this.u32min, tv);
    this.u32max = Math.min(this.u32max, (tv | tm) >>> 0);
  }

  /** __update_reg64_bounds */
  updateBounds64(): void {
    const v = this.varOff.value, m = this.varOff.mask;
    if (m === U64 && this.smin >= S64_MIN && this.smax <= S64_MAX && this.umin >= 0n && this.umax <= U64) return; // (unknown: nothing to learn)
    if (m === 0n) {
      // a constant tnum: every bound is pulled to it
      const sv = toS64(v);
      this.smin = max(this.smin, sv);
      this.smax = min(this.smax, sv);
      this.umin = max(this.umin, v);
      this.umax = min(this.umax, v);
      return;
    }
    if (m <= S64_MAX && v <= S64_MAX) {
      // sign bit known 0: the signed and unsigned candidates coincide; v | m only if it can tighten
      this.smin = max(this.smin, v);
      this.umin = max(this.umin, v);
      if (this.smax > v || this.umax > v) {
        const vm = v | m;
        this.smax = min(this.smax, vm);
        this.umax = min(this.umax, vm);
      }
      return;
    }
    this.smin = max(this.smin, s64(v | (m & BIT63)));
    this.smax = min(this.smax, s64(v | (m & S64_MAX)));
    this.umin = max(this.umin, v);
    this.umax = min(this.umax, v | m);
  }

  updateBounds(): void {
    this.updateBounds32();
    this.updateBounds64();
  }

  /** __reg32_deduce_bounds: the 64-bit ranges' low halves, where their upper halves allow it. */
  private deduce32(): void {
    const uminHi = hi32(this.umin), umaxHi = hi32(this.umax), uminLo = lo32(this.umin), umaxLo = lo32(this.umax);
    const sminHi = hi32(this.smin), smaxHi = hi32(this.smax), sminLo = lo32(this.smin), smaxLo = lo32(this.smax);
    if (uminHi === umaxHi) {
      this.u32min = Math.max(this.u32min, uminLo);
      this.u32max = Math.min(this.u32max, umaxLo);
      if ((uminLo | 0) <= (umaxLo | 0)) {
        this.s32min = Math.max(this.s32min, uminLo | 0);
        this.s32max = Math.min(this.s32max, umaxLo | 0);
      }
    }
    if (sminHi === smaxHi) {
      if (sminLo <= smaxLo) {
        this.u32min = Math.max(this.u32min, sminLo);
        this.u32max = Math.min(this.u32max, smaxLo);
      }
      if ((sminLo | 0) <= (smaxLo | 0)) {
        this.s32min = Math.max(this.s32min, sminLo | 0);
        this.s32max = Math.min(this.s32max, smaxLo | 0);
      }
    }
    // Upper halves are two consecutive numbers while the low halves cross from negative to non-negative.
    if ((uminHi + 1) >>> 0 === umaxHi >>> 0 && (uminLo | 0) < 0 && (umaxLo | 0) >= 0) {
      this.s32min = Math.max(this.s32min, uminLo | 0);
      this.s32max = Math.min(this.s32max, umaxLo | 0);
    }
    if ((sminHi + 1) >>> 0 === smaxHi >>> 0 && (sminLo | 0) < 0 && (smaxLo | 0) >= 0) {
      this.s32min = Math.max(this.s32min, sminLo | 0);
      this.s32max = Math.min(this.s32max, smaxLo | 0);
    }
    if ((this.u32min | 0) <= (this.u32max | 0)) {
      this.s32min = Math.max(this.s32min, this.u32min | 0);
      this.s32max = Math.min(this.s32max, this.u32max | 0);
    }
    if (this.s32min >>> 0 <= this.s32max >>> 0) {
      this.u32min = Math.max(this.u32min, this.s32min >>> 0);
      this.u32max = Math.min(this.u32max, this.s32max >>> 0);
    } else if (this.u32max < this.s32min >>> 0) {
      this.s32min = this.u32min | 0;
      this.u32max = Math.min(this.u32max, this.s32max >>> 0);
    } else if (this.s32max >>> 0 < this.u32min) {
      this.s32max = this.u32max | 0;
      this.u32min = Math.max(this.u32min, this.s32min >>> 0);
    }
  }

  /** __reg64_deduce_bounds */
  private deduce64(): void {
    if (toS64(this.umin) <= toS64(this.umax)) {
      this.smin = max(this.smin, toS64(this.umin));
      this.smax = min(this.smax, toS64(this.umax));
    }
    if (toU64(this.smin) <= toU64(this.smax)) {
      this.umin = max(this.umin, toU64(this.smin));
      this.umax = min(this.umax, toU64(this.smax));
    } else if (this.umax < toU64(this.smin)) {
      // The unsigned range only overlaps the non-negative part of the signed range.
      this.smin = toS64(this.umin);
      this.umax = min(this.umax, toU64(this.smax));
    } else if (toU64(this.smax) < this.umin) {
      // ... or only its negative part.
      this.smax = toS64(this.umax);
      this.umin = max(this.umin, toU64(this.smin));
    }
  }

  /**
   * __reg_deduce_mixed_bounds: the 64-bit bounds with their low halves
   * replaced by the 32-bit ones, where that tightens them. Replacing the low
   * half keeps the upper one, so the new bound is the tighter one exactly
   * when its low half is: no bigint is built unless a bound moves.
   */
  private deduceMixed(): void {
    if (this.u32min >= 0 && this.u32max <= U32_MAX && this.u32max >= 0 && this.u32min <= U32_MAX &&
      this.umin >= 0n && this.umax <= U64 && this.umax >= 0n && this.umin <= U64 &&
      this.smin >= S64_MIN && this.smax <= S64_MAX && this.smax >= S64_MIN && this.smin <= S64_MAX) {
      const uminLo = lo32(this.umin), umaxLo = lo32(this.umax), sminLo = lo32(this.smin), smaxLo = lo32(this.smax);
      if (this.u32min > uminLo) this.umin += big(this.u32min - uminLo);
      if (this.u32max < umaxLo) this.umax -= big(umaxLo - this.u32max);
      if (this.u32min > sminLo) this.smin += big(this.u32min - sminLo);
      if (this.u32max < smaxLo) this.smax -= big(smaxLo - this.u32max);
    } else {
      // A contradictory state (a bound stepped past its type's edge by a refinement): the
      // kernel's bit operations, literally, so that even its emptiness is the same.
      const u32min = BigInt(this.u32min), u32max = BigInt(this.u32max);
      this.umin = max(this.umin, (this.umin & HI32) | u32min);
      this.umax = min(this.umax, (this.umax & HI32) | u32max);
      this.smin = max(this.smin, s64((u64(this.smin) & HI32) | u32min));
      this.smax = min(this.smax, s64((u64(this.smax) & HI32) | u32max));
    }
    if (this.s32min >= 0 && this.smin >= S32_MIN_BIG && this.smax <= S32_MAX_BIG) {
      this.smin = this.umin = big(this.s32min);
      this.smax = this.umax = BigInt(this.s32max);
      this.varOff = tnumIntersect(this.varOff, tnumRange(this.smin, this.smax));
    }
  }

  deduceBounds(): void {
    this.deduce32();
    this.deduce64();
    this.deduceMixed();
  }

  /** __reg_bound_offset: the tnum learns from the ranges (64-bit, then the subregister from the 32-bit one). */
  boundOffset(): void {
    // An unbounded unsigned range teaches the tnum nothing (tnum_range is unknown).
    const v64 = this.umin === 0n && this.umax === U64 ? this.varOff : tnumIntersect(this.varOff, tnumRange(this.umin, this.umax));
    if (this.u32min >= 0 && this.u32max <= U32_MAX && this.u32max >= 0 && this.u32min <= U32_MAX) {
      // tnum_intersect(tnum_subreg(v64), tnum_range(u32min, u32max)) on numbers; a new tnum only if it moved
      const lv = lo32(v64.value), lm = lo32(v64.mask);
      rangeSmall(this.u32min, this.u32max);
      const mu = (lm & W.rm) >>> 0, v = ((lv | W.rv) & ~mu) >>> 0;
      this.varOff = v === lv && mu === lm ? v64 : tnumWithLow(v64, v, mu);
      return;
    }
    const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(BigInt(this.u32min), BigInt(this.u32max)));
    this.varOff = tnumOr(tnumClearSubreg(v64), v32);
  }

  /** reg_bounds_sync */
  sync(): void {
    const vo = this.varOff;
    // Fast path: nothing known in any view stays so (every step below would be a no-op).
    if (vo.mask === U64 && this.umin === 0n && this.umax === U64 && this.smin === S64_MIN && this.smax === S64_MAX &&
      this.u32min === 0 && this.u32max === U32_MAX && this.s32min === S32_MIN && this.s32max === S32_MAX) return;
    // Fast path: a known constant consistent with every view is exactly that constant
    // (the full reconciliation reaches the same result, more slowly).
    if (vo.mask === 0n && this.syncConst(vo.value)) return;
    // Values whose every 64-bit view lies in [0, 2^32): the same steps on numbers.
    if (this.umin <= U32 && this.umax <= U32 && this.smin >= 0n && this.smin <= U32 && this.smax >= 0n && this.smax <= U32 &&
      vo.value <= U32 && vo.mask <= U32 && this.u32min <= U32_MAX && this.u32max <= U32_MAX &&
      this.s32min >= S32_MIN && this.s32min <= S32_MAX && this.s32max >= S32_MIN && this.s32max <= S32_MAX && syncSmall(this)) return;
    this.syncReference();
  }

  /**
   * sync() of a scalar whose tnum is the constant v: when every view contains v, the scalar
   * becomes exactly v (true); otherwise nothing changes (false). contains() and isExactConst()
   * with the tnum test, which a constant tnum passes by construction, left out: no bigint is
   * built for a constant below 2^63.
   */
  private syncConst(v: bigint): boolean {
    if (v < 0n || v > U64) return false; // (an unnormalised tnum: contains() fails)
    const s = v <= S64_MAX ? v : s64(v);
    const lo = lo32(v), slo = lo | 0;
    if (this.umin === v && this.umax === v && this.smin === s && this.smax === s &&
      this.u32min === lo && this.u32max === lo && this.s32min === slo && this.s32max === slo) return true;
    if (this.boundsContain(v)) {
      this.markKnown(v);
      return true;
    }
    return false;
  }

  /**
   * reg_bounds_sync on bigints, for any scalar (sync() takes a faster route
   * for small non-negative ones; the domain tests check that both agree).
   */
  syncReference(): void {
    this.updateBounds();
    // Up to three rounds of deduction, as the kernel runs them; a round is a function of the
    // bounds and the tnum alone, so once one changes nothing the remaining rounds would not either.
    for (let round = 0; round < 3; round++) {
      const { varOff, smin, smax, umin, umax, s32min, s32max, u32min, u32max } = this;
      this.deduceBounds();
      if (this.umin === umin && this.umax === umax && this.smin === smin && this.smax === smax &&
        this.u32min === u32min && this.u32max === u32max && this.s32min === s32min && this.s32max === s32max &&
        this.varOff.value === varOff.value && this.varOff.mask === varOff.mask) break;
    }
    this.boundOffset();
    this.updateBounds();
  }

  /** zext_32_to_64: an ALU32 result has its upper half zero. */
  zext32(): void {
    this.varOff = tnumSubreg(this.varOff);
    this.umin = big(this.u32min);
    this.umax = big(this.u32max);
    if (this.s32min >= 0 && this.s32max >= 0) {
      this.smin = big(this.s32min);
      this.smax = big(this.s32max);
    } else {
      this.smin = 0n;
      this.smax = U32;
    }
  }

  /** coerce_reg_to_size: keep the low `size` bytes (a narrower load, a 32-bit mov). */
  truncate(size: number): void {
    this.varOff = tnumCast(this.varOff, size);
    const mask = (1n << BigInt(size * 8)) - 1n;
    if ((this.umin & ~mask) === (this.umax & ~mask)) {
      this.umin &= mask;
      this.umax &= mask;
    } else {
      this.umin = 0n;
      this.umax = mask;
    }
    this.smin = this.umin;
    this.smax = this.umax;
    if (size < 4) this.mark32Unbounded();
    this.sync();
  }

  /** coerce_reg_to_size_sx: sign-extend the low `size` bytes to 64 bits (movsx, ldsx). */
  signExtend(size: 1 | 2 | 4): void {
    const bits = BigInt(size * 8);
    if (tnumIsConst(this.varOff)) {
      this.markKnown(BigInt.asIntN(size * 8, this.varOff.value));
      return;
    }
    const topMax = (u64(this.smax) >> bits) << bits;
    const topMin = (u64(this.smin) >> bits) << bits;
    if (topMax === topMin) {
      const a = BigInt.asIntN(size * 8, this.smax), b = BigInt.asIntN(size * 8, this.smin);
      const hi = max(a, b), lo = min(a, b);
      if ((hi >= 0n) === (lo >= 0n)) {
        // lo and hi are sign-extended values of at most 32 bits: exact as numbers
        this.smin = lo; this.s32min = Number(lo);
        this.smax = hi; this.s32max = Number(hi);
        this.umin = u64(lo); this.u32min = this.s32min >>> 0;
        this.umax = u64(hi); this.u32max = this.s32max >>> 0;
        this.varOff = tnumRange(this.umin, this.umax);
        return;
      }
    }
    const lim = 1n << (bits - 1n);
    this.smin = -lim;
    this.smax = lim - 1n;
    this.s32min = -Number(lim);
    this.s32max = Number(lim) - 1;
    this.umin = 0n; this.u32min = 0;
    this.umax = U64;
    this.u32max = U32_MAX;
    this.varOff = tnumUnknown;
  }

  /** coerce_subreg_to_size_sx: sign-extend the low 1 or 2 bytes into the 32-bit subregister (movsx w). */
  signExtendSubreg(size: 1 | 2): void {
    const bits = size * 8, pad = 32 - bits;
    if (tnumIsConst(this.varOff)) {
      const v = ((lo32(this.varOff.value) << pad) >> pad) >>> 0;
      this.varOff = tnumConst(big(v));
      this.s32min = this.s32max = v | 0;
      this.u32min = this.u32max = v;
      return;
    }
    // the bits above the low `size` bytes of both signed bounds are equal
    if (this.s32max >>> 0 >>> bits === this.s32min >>> 0 >>> bits) {
      const a = (this.s32max << pad) >> pad, b = (this.s32min << pad) >> pad;
      const hi = Math.max(a, b), lo = Math.min(a, b);
      if ((hi >= 0) === (lo >= 0)) {
        this.s32min = lo; this.s32max = hi;
        this.u32min = lo >>> 0; this.u32max = hi >>> 0;
        this.varOff = tnumSubreg(tnumRange(big(this.u32min), big(this.u32max)));
        return;
      }
    }
    const lim = 2 ** (bits - 1);
    this.s32min = -lim; this.s32max = lim - 1;
    this.u32min = 0; this.u32max = U32_MAX;
    this.varOff = tnumSubreg(tnumUnknown);
  }
}

/** The smallest tnum covering [min, max] for 0 <= min, max < 2^32 (tnumRange on numbers). */
function rangeSmall(min: number, max: number): void {
  if (min === max) { W.rv = min; W.rm = 0; return; }
  const chi = (min ^ max) >>> 0;
  const bits = chi === 0 ? 0 : 32 - Math.clz32(chi);
  const delta = bits >= 32 ? 0xffffffff : ((1 << bits) - 1) >>> 0;
  W.rv = (min & ~delta) >>> 0;
  W.rm = delta;
}

/**
 * reg_bounds_sync for a scalar whose tnum, unsigned and signed 64-bit bounds
 * all lie in [0, 2^32): every step of Scalar.syncReference transcribed onto
 * numbers (exact: all values fit in 32 bits, the 64-bit views coincide with
 * the value, and the upper halves are zero, so the steps that look at them
 * reduce to constants). Bounds only tighten here, so the values stay in range.
 * Most scalars in real programs are such (loads of 1, 2 or 4 bytes, masked
 * and shifted values, lengths, offsets), and bigint arithmetic costs
 * microseconds per sync. Returns false, leaving the scalar untouched, when a
 * step would leave that range (an empty 32-bit signed range copied into the
 * 64-bit one): the caller then takes the bigint route.
 */
/**
 * syncSmall's working state (rangeSmall's result in rv, rm), in one object
 * rather than module variables: a module (script context) variable holding
 * a number past the small-integer range (2^30) is boxed anew on every store
 * in Node.js 20's V8, so a sync allocated a heap number per step, while an
 * object field created as a double is updated in place. The fields start as
 * doubles (0.5) so that their representation never changes.
 */
const W = { tv: 0.5, tm: 0.5, umin: 0.5, umax: 0.5, smin: 0.5, smax: 0.5, u32min: 0.5, u32max: 0.5, s32min: 0.5, s32max: 0.5, rv: 0.5, rm: 0.5 };

function smallUpdateBounds(): void {
  // __update_reg32_bounds
  W.s32min = Math.max(W.s32min, (W.tv | (W.tm & 0x80000000)) | 0);
  W.s32max = Math.min(W.s32max, (W.tv | (W.tm & 0x7fffffff)) | 0);
  W.u32min = Math.max(W.u32min, W.tv);
  W.u32max = Math.min(W.u32max, (W.tv | W.tm) >>> 0);
  // __update_reg64_bounds (the sign bit of the tnum is known 0)
  W.smin = Math.max(W.smin, W.tv);
  W.smax = Math.min(W.smax, (W.tv | W.tm) >>> 0);
  W.umin = Math.max(W.umin, W.tv);
  W.umax = Math.min(W.umax, (W.tv | W.tm) >>> 0);
}

function smallDeduce(): boolean {
  // __reg32_deduce_bounds: the upper halves are equal (zero) in both 64-bit ranges
  W.u32min = Math.max(W.u32min, W.umin);
  W.u32max = Math.min(W.u32max, W.umax);
  if ((W.umin | 0) <= (W.umax | 0)) {
    W.s32min = Math.max(W.s32min, W.umin | 0);
    W.s32max = Math.min(W.s32max, W.umax | 0);
  }
  if (W.smin <= W.smax) {
    W.u32min = Math.max(W.u32min, W.smin);
    W.u32max = Math.min(W.u32max, W.smax);
  }
  if ((W.smin | 0) <= (W.smax | 0)) {
    W.s32min = Math.max(W.s32min, W.smin | 0);
    W.s32max = Math.min(W.s32max, W.smax | 0);
  }
  // (the two "upper halves differ by one" cases cannot apply: both are zero)
  if ((W.u32min | 0) <= (W.u32max | 0)) {
    W.s32min = Math.max(W.s32min, W.u32min | 0);
    W.s32max = Math.min(W.s32max, W.u32max | 0);
  }
  if (W.s32min >>> 0 <= W.s32max >>> 0) {
    W.u32min = Math.max(W.u32min, W.s32min >>> 0);
    W.u32max = Math.min(W.u32max, W.s32max >>> 0);
  } else if (W.u32max < W.s32min >>> 0) {
    W.s32min = W.u32min | 0;
    W.u32max = Math.min(W.u32max, W.s32max >>> 0);
  } else if (W.s32max >>> 0 < W.u32min) {
    W.s32max = W.u32max | 0;
    W.u32min = Math.max(W.u32min, W.s32min >>> 0);
  }
  // __reg64_deduce_bounds: both 64-bit ranges are non-negative
  if (W.umin <= W.umax) {
    W.smin = Math.max(W.smin, W.umin);
    W.smax = Math.min(W.smax, W.umax);
  }
  if (W.smin <= W.smax) {
    W.umin = Math.max(W.umin, W.smin);
    W.umax = Math.min(W.umax, W.smax);
  } else if (W.umax < W.smin) {
    W.smin = W.umin;
    W.umax = Math.min(W.umax, W.smax);
  } else if (W.smax < W.umin) {
    W.smax = W.umax;
    W.umin = Math.max(W.umin, W.smin);
  }
  // __reg_deduce_mixed_bounds: the upper halves are zero
  W.umin = Math.max(W.umin, W.u32min);
  W.umax = Math.min(W.umax, W.u32max);
  W.smin = Math.max(W.smin, W.u32min);
  W.smax = Math.min(W.smax, W.u32max);
  if (W.s32min >= 0 && W.smax <= 0x7fffffff) {
    if (W.s32max < 0) return false;
    W.smin = W.s32min;
    W.smax = W.s32max;
    W.umin = W.s32min;
    W.umax = W.s32max;
    rangeSmall(W.smin, W.smax);
    const v = (W.tv | W.rv) >>> 0, mu = (W.tm & W.rm) >>> 0;
    W.tv = (v & ~mu) >>> 0;
    W.tm = mu;
  }
  return true;
}

function syncSmall(sc: Scalar): boolean {
  // (every value is in [0, 2^32), the caller checked: small32 reads it without Number()'s cost)
  const tv0 = small32(sc.varOff.value), tm0 = small32(sc.varOff.mask);
  const umin0 = small32(sc.umin), umax0 = small32(sc.umax);
  const smin0 = small32(sc.smin), smax0 = small32(sc.smax);
  W.tv = tv0; W.tm = tm0; W.umin = umin0; W.umax = umax0; W.smin = smin0; W.smax = smax0;
  W.u32min = sc.u32min; W.u32max = sc.u32max; W.s32min = sc.s32min; W.s32max = sc.s32max;
  smallUpdateBounds();
  for (let round = 0; round < 3; round++) {
    const a = W.tv, b = W.tm, c = W.umin, d = W.umax, e = W.smin, f = W.smax, g = W.u32min, h = W.u32max, i = W.s32min, j = W.s32max;
    if (!smallDeduce()) return false;
    if (a === W.tv && b === W.tm && c === W.umin && d === W.umax && e === W.smin && f === W.smax && g === W.u32min && h === W.u32max && i === W.s32min && j === W.s32max) break;
  }
  // __reg_bound_offset: the 64-bit and 32-bit tnums coincide
  {
    rangeSmall(W.umin, W.umax);
    let v = (W.tv | W.rv) >>> 0, mu = (W.tm & W.rm) >>> 0;
    const v64 = (v & ~mu) >>> 0, m64 = mu;
    rangeSmall(W.u32min, W.u32max);
    v = (v64 | W.rv) >>> 0;
    mu = (m64 & W.rm) >>> 0;
    W.tv = (v & ~mu) >>> 0;
    W.tm = mu;
  }
  smallUpdateBounds();
  // Only what moved becomes a new bigint (a sync mostly confirms what is known).
  if (W.tv !== tv0 || W.tm !== tm0) sc.varOff = { value: big(W.tv), mask: big(W.tm) };
  if (W.umin !== umin0) sc.umin = big(W.umin);
  if (W.umax !== umax0) sc.umax = big(W.umax);
  if (W.smin !== smin0) sc.smin = big(W.smin);
  if (W.smax !== smax0) sc.smax = big(W.smax);
  sc.u32min = W.u32min; sc.u32max = W.u32max; sc.s32min = W.s32min; sc.s32max = W.s32max;
  return true;
}
