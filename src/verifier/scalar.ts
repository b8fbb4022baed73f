/**
 * The scalar domain: what the verifier knows about a 64-bit value, as the
 * kernel's bpf_reg_state keeps it (kernel/bpf/verifier.c): a tnum plus signed
 * and unsigned bounds of the whole register and of its low 32 bits. After
 * each operation the five views are reconciled with each other
 * (reg_bounds_sync), so that a fact learned in one view (say, `if w1 s< 8`)
 * tightens the others.
 *
 * 64-bit bounds are bigints: smin/smax signed, umin/umax in [0, 2^64); the
 * 32-bit bounds are bigints too (s32 signed, u32 unsigned) so every
 * comparison reads like the kernel's.
 */
import {
  type Tnum, U64, U32, tnumUnknown, tnumConst, tnumRange, tnumIntersect, tnumSubreg, tnumClearSubreg,
  tnumOr, tnumAnd, tnumXor, tnumAdd, tnumSub, tnumMul, tnumLshift, tnumRshift, tnumArshift, tnumIsConst,
  tnumSubregIsConst, tnumWithSubreg, tnumCast, tnumOverlap, tnumContains, tnumIn,
} from './tnum.js';
import * as op from '../isa/opcodes.js';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
// Hoisted so that the hot paths below do not rebuild them on every call.
const BIT63 = 1n << 63n;
const HI32 = U64 ^ U32;
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export class Scalar {
  constructor(
    public varOff: Tnum = tnumUnknown,
    public smin = S64_MIN,
    public smax = S64_MAX,
    public umin = 0n,
    public umax = U64,
    public s32min = S32_MIN,
    public s32max = S32_MAX,
    public u32min = 0n,
    public u32max = U32,
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
    const u = u64(v);
    this.varOff = tnumConst(u);
    this.smin = this.smax = s64(u);
    this.umin = this.umax = u;
    this.s32min = this.s32max = s32(u);
    this.u32min = this.u32max = u32(u);
  }

  markKnown32(v: bigint): void {
    this.varOff = tnumWithSubreg(this.varOff, tnumConst(u32(v)));
    this.s32min = this.s32max = s32(v);
    this.u32min = this.u32max = u32(v);
  }

  markUnbounded(): void {
    this.mark64Unbounded();
    this.mark32Unbounded();
  }

  mark64Unbounded(): void {
    this.smin = S64_MIN; this.smax = S64_MAX; this.umin = 0n; this.umax = U64;
  }

  mark32Unbounded(): void {
    this.s32min = S32_MIN; this.s32max = S32_MAX; this.u32min = 0n; this.u32max = U32;
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
    return this.varOff.mask === 0n && this.umin === v && this.umax === v && this.smin === s64(v) && this.smax === this.smin &&
      this.u32min === u32(v) && this.u32max === this.u32min && this.s32min === s32(v) && this.s32max === this.s32min;
  }

  /** The kernel's is_reg_const: a constant in the 64- or 32-bit view. */
  isConstIn(jmp32: boolean): boolean {
    return jmp32 ? tnumSubregIsConst(this.varOff) : tnumIsConst(this.varOff);
  }

  constValue(jmp32: boolean): bigint {
    return jmp32 ? u32(this.varOff.value) : this.varOff.value;
  }

  isUnknown(): boolean {
    return this.varOff.mask === U64 && this.smin === S64_MIN && this.smax === S64_MAX && this.umin === 0n &&
      this.umax === U64 && this.s32min === S32_MIN && this.s32max === S32_MAX && this.u32min === 0n && this.u32max === U32;
  }

  /** Whether the concrete 64-bit value v satisfies every view (for property tests and the fuzzer). */
  contains(v: bigint): boolean {
    const u = u64(v), s = s64(v), lo = u32(v), slo = s32(v);
    return tnumContains(this.varOff, u) && u >= this.umin && u <= this.umax && s >= this.smin && s <= this.smax &&
      lo >= this.u32min && lo <= this.u32max && slo >= this.s32min && slo <= this.s32max;
  }

  /** No concrete value satisfies every view (an infeasible branch). */
  isEmpty(): boolean {
    return this.umin > this.umax || this.smin > this.smax || this.u32min > this.u32max || this.s32min > this.s32max ||
      (tnumIsConst(this.varOff) && !this.contains(this.varOff.value));
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

  updateBounds32(): void {
    const v = tnumSubreg(this.varOff);
    this.s32min = max(this.s32min, s32(v.value | (v.mask & 0x80000000n)));
    this.s32max = min(this.s32max, s32(v.value | (v.mask & 0x7fffffffn)));
    this.u32min = max(this.u32min, v.value);
    this.u32max = min(this.u32max, v.value | v.mask);
  }

  updateBounds64(): void {
    const v = this.varOff;
    this.smin = max(this.smin, s64(v.value | (v.mask & BIT63)));
    this.smax = min(this.smax, s64(v.value | (v.mask & S64_MAX)));
    this.umin = max(this.umin, v.value);
    this.umax = min(this.umax, v.value | v.mask);
  }

  updateBounds(): void {
    this.updateBounds32();
    this.updateBounds64();
  }

  private deduce32(): void {
    if (this.umin >> 32n === this.umax >> 32n) {
      this.u32min = max(this.u32min, u32(this.umin));
      this.u32max = min(this.u32max, u32(this.umax));
      if (s32(this.umin) <= s32(this.umax)) {
        this.s32min = max(this.s32min, s32(this.umin));
        this.s32max = min(this.s32max, s32(this.umax));
      }
    }
    if (this.smin >> 32n === this.smax >> 32n) {
      if (u32(this.smin) <= u32(this.smax)) {
        this.u32min = max(this.u32min, u32(this.smin));
        this.u32max = min(this.u32max, u32(this.smax));
      }
      if (s32(this.smin) <= s32(this.smax)) {
        this.s32min = max(this.s32min, s32(this.smin));
        this.s32max = min(this.s32max, s32(this.smax));
      }
    }
    // Upper halves are two consecutive numbers while the low halves cross from negative to non-negative.
    if (u32((this.umin >> 32n) + 1n) === u32(this.umax >> 32n) && s32(this.umin) < 0n && s32(this.umax) >= 0n) {
      this.s32min = max(this.s32min, s32(this.umin));
      this.s32max = min(this.s32max, s32(this.umax));
    }
    if (u32((this.smin >> 32n) + 1n) === u32(this.smax >> 32n) && s32(this.smin) < 0n && s32(this.smax) >= 0n) {
      this.s32min = max(this.s32min, s32(this.smin));
      this.s32max = min(this.s32max, s32(this.smax));
    }
    if (s32(this.u32min) <= s32(this.u32max)) {
      this.s32min = max(this.s32min, s32(this.u32min));
      this.s32max = min(this.s32max, s32(this.u32max));
    }
    if (u32(this.s32min) <= u32(this.s32max)) {
      this.u32min = max(this.u32min, u32(this.s32min));
      this.u32max = min(this.u32max, u32(this.s32max));
    } else if (this.u32max < u32(this.s32min)) {
      this.s32min = s32(this.u32min);
      this.u32max = min(this.u32max, u32(this.s32max));
    } else if (u32(this.s32max) < this.u32min) {
      this.s32max = s32(this.u32max);
      this.u32min = max(this.u32min, u32(this.s32min));
    }
  }

  private deduce64(): void {
    if (s64(this.umin) <= s64(this.umax)) {
      this.smin = max(this.smin, s64(this.umin));
      this.smax = min(this.smax, s64(this.umax));
    }
    if (u64(this.smin) <= u64(this.smax)) {
      this.umin = max(this.umin, u64(this.smin));
      this.umax = min(this.umax, u64(this.smax));
    } else if (this.umax < u64(this.smin)) {
      // The unsigned range only overlaps the non-negative part of the signed range.
      this.smin = s64(this.umin);
      this.umax = min(this.umax, u64(this.smax));
    } else if (u64(this.smax) < this.umin) {
      // ... or only its negative part.
      this.smax = s64(this.umax);
      this.umin = max(this.umin, u64(this.smin));
    }
  }

  private deduceMixed(): void {
    const HI = HI32;
    const newUmin = (this.umin & HI) | this.u32min;
    const newUmax = (this.umax & HI) | this.u32max;
    this.umin = max(this.umin, newUmin);
    this.umax = min(this.umax, newUmax);
    const newSmin = s64((u64(this.smin) & HI) | this.u32min);
    const newSmax = s64((u64(this.smax) & HI) | this.u32max);
    this.smin = max(this.smin, newSmin);
    this.smax = min(this.smax, newSmax);
    if (this.s32min >= 0n && this.smin >= S32_MIN && this.smax <= S32_MAX) {
      this.smin = this.s32min;
      this.smax = this.s32max;
      this.umin = this.s32min;
      this.umax = this.s32max;
      this.varOff = tnumIntersect(this.varOff, tnumRange(this.smin, this.smax));
    }
  }

  deduceBounds(): void {
    this.deduce32();
    this.deduce64();
    this.deduceMixed();
  }

  boundOffset(): void {
    const v64 = tnumIntersect(this.varOff, tnumRange(this.umin, this.umax));
    const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(this.u32min, this.u32max));
    this.varOff = tnumOr(tnumClearSubreg(v64), v32);
  }

  /** reg_bounds_sync */
  sync(): void {
    // Fast path: nothing known in any view stays so (every step below would be a no-op).
    if (this.varOff.mask === U64 && this.umin === 0n && this.umax === U64 && this.smin === S64_MIN && this.smax === S64_MAX &&
      this.u32min === 0n && this.u32max === U32 && this.s32min === S32_MIN && this.s32max === S32_MAX) return;
    // Fast path: a known constant consistent with every view is exactly that constant
    // (the full reconciliation reaches the same result, more slowly).
    if (this.varOff.mask === 0n) {
      const v = this.varOff.value;
      if (this.contains(v)) {
        this.markKnown(v);
        return;
      }
    }
    // Values whose every 64-bit view lies in [0, 2^32): the same steps on numbers.
    if (this.umin <= U32 && this.umax <= U32 && this.smin >= 0n && this.smin <= U32 && this.smax >= 0n && this.smax <= U32 &&
      (this.varOff.value | this.varOff.mask) <= U32 && this.u32min <= U32 && this.u32max <= U32 &&
      this.s32min >= S32_MIN && this.s32min <= S32_MAX && this.s32max >= S32_MIN && this.s32max <= S32_MAX && syncSmall(this)) return;
    this.syncReference();
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
    this.umin = this.u32min;
    this.umax = this.u32max;
    if (this.s32min >= 0n && this.s32max >= 0n) {
      this.smin = this.s32min;
      this.smax = this.s32max;
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
        this.smin = this.s32min = lo;
        this.smax = this.s32max = hi;
        this.umin = u64(lo); this.u32min = u32(lo);
        this.umax = u64(hi); this.u32max = u32(hi);
        this.varOff = tnumRange(u64(lo), u64(hi));
        return;
      }
    }
    const lim = 1n << (bits - 1n);
    this.smin = this.s32min = -lim;
    this.smax = this.s32max = lim - 1n;
    if (size === 4) { this.s32min = S32_MIN; this.s32max = S32_MAX; }
    this.umin = this.u32min = 0n;
    this.umax = U64;
    this.u32max = U32;
    this.varOff = tnumUnknown;
  }

  /** coerce_subreg_to_size_sx: sign-extend the low 1 or 2 bytes into the 32-bit subregister (movsx w). */
  signExtendSubreg(size: 1 | 2): void {
    const bits = BigInt(size * 8);
    if (tnumIsConst(this.varOff)) {
      const v = u32(BigInt.asIntN(size * 8, this.varOff.value));
      this.varOff = tnumConst(v);
      this.s32min = this.s32max = s32(v);
      this.u32min = this.u32max = v;
      return;
    }
    const topMax = (u32(this.s32max) >> bits) << bits;
    const topMin = (u32(this.s32min) >> bits) << bits;
    if (topMax === topMin) {
      const a = BigInt.asIntN(size * 8, this.s32max), b = BigInt.asIntN(size * 8, this.s32min);
      const hi = max(a, b), lo = min(a, b);
      if ((hi >= 0n) === (lo >= 0n)) {
        this.s32min = lo; this.s32max = hi;
        this.u32min = u32(lo); this.u32max = u32(hi);
        this.varOff = tnumSubreg(tnumRange(u32(lo), u32(hi)));
        return;
      }
    }
    const lim = 1n << (bits - 1n);
    this.s32min = -lim; this.s32max = lim - 1n;
    this.u32min = 0n; this.u32max = U32;
    this.varOff = tnumSubreg(tnumUnknown);
  }
}

/** The smallest tnum covering [min, max] for 0 <= min, max < 2^32 (tnumRange on numbers). */
function rangeSmall(min: number, max: number): [number, number] {
  if (min === max) return [min, 0];
  const chi = (min ^ max) >>> 0;
  const bits = chi === 0 ? 0 : 32 - Math.clz32(chi);
  const delta = bits >= 32 ? 0xffffffff : ((1 << bits) - 1) >>> 0;
  return [(min & ~delta) >>> 0, delta];
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
function syncSmall(sc: Scalar): boolean {
  let tv = Number(sc.varOff.value), tm = Number(sc.varOff.mask);
  let umin = Number(sc.umin), umax = Number(sc.umax), smin = Number(sc.smin), smax = Number(sc.smax);
  let u32min = Number(sc.u32min), u32max = Number(sc.u32max), s32min = Number(sc.s32min), s32max = Number(sc.s32max);
  const updateBounds = (): void => {
    // __update_reg32_bounds
    s32min = Math.max(s32min, (tv | (tm & 0x80000000)) | 0);
    s32max = Math.min(s32max, (tv | (tm & 0x7fffffff)) | 0);
    u32min = Math.max(u32min, tv);
    u32max = Math.min(u32max, (tv | tm) >>> 0);
    // __update_reg64_bounds (the sign bit of the tnum is known 0)
    smin = Math.max(smin, tv);
    smax = Math.min(smax, (tv | tm) >>> 0);
    umin = Math.max(umin, tv);
    umax = Math.min(umax, (tv | tm) >>> 0);
  };
  const deduce = (): boolean => {
    // __reg32_deduce_bounds: the upper halves are equal (zero) in both 64-bit ranges
    u32min = Math.max(u32min, umin);
    u32max = Math.min(u32max, umax);
    if ((umin | 0) <= (umax | 0)) {
      s32min = Math.max(s32min, umin | 0);
      s32max = Math.min(s32max, umax | 0);
    }
    if (smin <= smax) {
      u32min = Math.max(u32min, smin);
      u32max = Math.min(u32max, smax);
    }
    if ((smin | 0) <= (smax | 0)) {
      s32min = Math.max(s32min, smin | 0);
      s32max = Math.min(s32max, smax | 0);
    }
    // (the two "upper halves differ by one" cases cannot apply: both are zero)
    if ((u32min | 0) <= (u32max | 0)) {
      s32min = Math.max(s32min, u32min | 0);
      s32max = Math.min(s32max, u32max | 0);
    }
    if (s32min >>> 0 <= s32max >>> 0) {
      u32min = Math.max(u32min, s32min >>> 0);
      u32max = Math.min(u32max, s32max >>> 0);
    } else if (u32max < s32min >>> 0) {
      s32min = u32min | 0;
      u32max = Math.min(u32max, s32max >>> 0);
    } else if (s32max >>> 0 < u32min) {
      s32max = u32max | 0;
      u32min = Math.max(u32min, s32min >>> 0);
    }
    // __reg64_deduce_bounds: both 64-bit ranges are non-negative
    if (umin <= umax) {
      smin = Math.max(smin, umin);
      smax = Math.min(smax, umax);
    }
    if (smin <= smax) {
      umin = Math.max(umin, smin);
      umax = Math.min(umax, smax);
    } else if (umax < smin) {
      smin = umin;
      umax = Math.min(umax, smax);
    } else if (smax < umin) {
      smax = umax;
      umin = Math.max(umin, smin);
    }
    // __reg_deduce_mixed_bounds: the upper halves are zero
    umin = Math.max(umin, u32min);
    umax = Math.min(umax, u32max);
    smin = Math.max(smin, u32min);
    smax = Math.min(smax, u32max);
    if (s32min >= 0 && smax <= 0x7fffffff) {
      if (s32max < 0) return false;
      smin = s32min;
      smax = s32max;
      umin = s32min;
      umax = s32max;
      const [rv, rm] = rangeSmall(smin, smax);
      const v = (tv | rv) >>> 0, mu = (tm & rm) >>> 0;
      tv = (v & ~mu) >>> 0;
      tm = mu;
    }
    return true;
  };
  updateBounds();
  for (let round = 0; round < 3; round++) {
    const a = tv, b = tm, c = umin, d = umax, e = smin, f = smax, g = u32min, h = u32max, i = s32min, j = s32max;
    if (!deduce()) return false;
    if (a === tv && b === tm && c === umin && d === umax && e === smin && f === smax && g === u32min && h === u32max && i === s32min && j === s32max) break;
  }
  // __reg_bound_offset: the 64-bit and 32-bit tnums coincide
  {
    const [rv, rm] = rangeSmall(umin, umax);
    let v = (tv | rv) >>> 0, mu = (tm & rm) >>> 0;
    const v64 = (v & ~mu) >>> 0, m64 = mu;
    const [qv, qm] = rangeSmall(u32min, u32max);
    v = (v64 | qv) >>> 0;
    mu = (m64 & qm) >>> 0;
    tv = (v & ~mu) >>> 0;
    tm = mu;
  }
  updateBounds();
  sc.varOff = { value: BigInt(tv), mask: BigInt(tm) };
  sc.umin = BigInt(umin); sc.umax = BigInt(umax); sc.smin = BigInt(smin); sc.smax = BigInt(smax);
  sc.u32min = BigInt(u32min); sc.u32max = BigInt(u32max); sc.s32min = BigInt(s32min); sc.s32max = BigInt(s32max);
  return true;
}

// --- ALU (adjust_scalar_min_max_vals) ---

/** The kernel tracks ranges only for these ops, and for shifts only by a constant below the width. */
export function canComputeRange(opc: number, src: Scalar, alu32: boolean): boolean {
  switch (opc) {
    case op.BPF_ADD: case op.BPF_SUB: case op.BPF_AND: case op.BPF_XOR: case op.BPF_OR: case op.BPF_MUL:
      return true;
    case op.BPF_LSH: case op.BPF_RSH: case op.BPF_ARSH: {
      const c = alu32
        ? tnumSubregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max
        : tnumIsConst(src.varOff) && src.smin === src.smax && src.umin === src.umax;
      return c && src.umax < (alu32 ? 32n : 64n);
    }
    default:
      return false;
  }
}

function add32(d: Scalar, s: Scalar): void {
  const a = d.s32min + s.s32min, b = d.s32max + s.s32max;
  if (a < S32_MIN || a > S32_MAX || b < S32_MIN || b > S32_MAX) { d.s32min = S32_MIN; d.s32max = S32_MAX; }
  else { d.s32min = a; d.s32max = b; }
  const c = d.u32min + s.u32min, e = d.u32max + s.u32max;
  if (c > U32 || e > U32) { d.u32min = 0n; d.u32max = U32; } else { d.u32min = c; d.u32max = e; }
}
function add64(d: Scalar, s: Scalar): void {
  const a = d.smin + s.smin, b = d.smax + s.smax;
  if (a < S64_MIN || a > S64_MAX || b < S64_MIN || b > S64_MAX) { d.smin = S64_MIN; d.smax = S64_MAX; }
  else { d.smin = a; d.smax = b; }
  const c = d.umin + s.umin, e = d.umax + s.umax;
  if (c > U64 || e > U64) { d.umin = 0n; d.umax = U64; } else { d.umin = c; d.umax = e; }
}
function sub32(d: Scalar, s: Scalar): void {
  const a = d.s32min - s.s32max, b = d.s32max - s.s32min;
  if (a < S32_MIN || a > S32_MAX || b < S32_MIN || b > S32_MAX) { d.s32min = S32_MIN; d.s32max = S32_MAX; }
  else { d.s32min = a; d.s32max = b; }
  if (d.u32min < s.u32max) { d.u32min = 0n; d.u32max = U32; }
  else { d.u32min -= s.u32max; d.u32max -= s.u32min; }
}
function sub64(d: Scalar, s: Scalar): void {
  const a = d.smin - s.smax, b = d.smax - s.smin;
  if (a < S64_MIN || a > S64_MAX || b < S64_MIN || b > S64_MAX) { d.smin = S64_MIN; d.smax = S64_MAX; }
  else { d.smin = a; d.smax = b; }
  if (d.umin < s.umax) { d.umin = 0n; d.umax = U64; }
  else { d.umin -= s.umax; d.umax -= s.umin; }
}
function mul32(d: Scalar, s: Scalar): void {
  // Only non-negative factors small enough not to overflow are tracked, as the kernel does.
  if (s.s32min < 0n || d.s32min < 0n) return d.mark32Unbounded();
  if (s.u32max > 0xffffn || d.u32max > 0xffffn) return d.mark32Unbounded();
  d.u32min *= s.u32min;
  d.u32max *= s.u32max;
  if (d.u32max > S32_MAX) { d.s32min = S32_MIN; d.s32max = S32_MAX; }
  else { d.s32min = d.u32min; d.s32max = d.u32max; }
}
function mul64(d: Scalar, s: Scalar): void {
  if (s.smin < 0n || d.smin < 0n) return d.mark64Unbounded();
  if (s.umax > U32 || d.umax > U32) return d.mark64Unbounded();
  d.umin *= s.umin;
  d.umax *= s.umax;
  if (d.umax > S64_MAX) { d.smin = S64_MIN; d.smax = S64_MAX; }
  else { d.smin = d.umin; d.smax = d.umax; }
}
function signed32FromU32(d: Scalar): void {
  if (s32(d.u32min) <= s32(d.u32max)) { d.s32min = s32(d.u32min); d.s32max = s32(d.u32max); }
  else { d.s32min = S32_MIN; d.s32max = S32_MAX; }
}
function signed64FromU64(d: Scalar): void {
  if (s64(d.umin) <= s64(d.umax)) { d.smin = s64(d.umin); d.smax = s64(d.umax); }
  else { d.smin = S64_MIN; d.smax = S64_MAX; }
}
function and32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(v.value);
  d.u32min = v.value;
  d.u32max = min(d.u32max, s.u32max);
  signed32FromU32(d);
}
function and64(d: Scalar, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) return d.markKnown(d.varOff.value);
  d.umin = d.varOff.value;
  d.umax = min(d.umax, s.umax);
  signed64FromU64(d);
  d.updateBounds();
}
function or32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(v.value);
  d.u32min = max(d.u32min, s.u32min);
  d.u32max = v.value | v.mask;
  signed32FromU32(d);
}
function or64(d: Scalar, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) return d.markKnown(d.varOff.value);
  d.umin = max(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  signed64FromU64(d);
  d.updateBounds();
}
function xor32(d: Scalar, s: Scalar): void {
  const v = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(v.value);
  d.u32min = v.value;
  d.u32max = v.value | v.mask;
  signed32FromU32(d);
}
function xor64(d: Scalar, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) return d.markKnown(d.varOff.value);
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  signed64FromU64(d);
  d.updateBounds();
}
function lsh32Bounds(d: Scalar, umin: bigint, umax: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || d.u32max > 1n << (31n - umax)) { d.u32min = 0n; d.u32max = U32; }
  else { d.u32min <<= umin; d.u32max <<= umax; }
}
function lsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  lsh32Bounds(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(sub, Number(s.u32min)));
  d.mark64Unbounded();
  d.updateBounds32();
}
function lsh64(d: Scalar, s: Scalar): void {
  const umin = s.umin, umax = s.umax;
  if (umin === 32n && umax === 32n) { d.smax = d.s32max << 32n; d.smin = d.s32min << 32n; }
  else { d.smax = S64_MAX; d.smin = S64_MIN; }
  if (d.umax > 1n << (63n - umax)) { d.umin = 0n; d.umax = U64; }
  else { d.umin = u64(d.umin << umin); d.umax = u64(d.umax << umax); }
  lsh32Bounds(d, umin, umax);
  d.varOff = tnumLshift(d.varOff, Number(umin));
  d.updateBounds();
}
function rsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN; d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, Number(s.u32min));
  d.u32min >>= s.u32max;
  d.u32max >>= s.u32min;
  d.mark64Unbounded();
  d.updateBounds32();
}
function rsh64(d: Scalar, s: Scalar): void {
  d.smin = S64_MIN; d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, Number(s.umin));
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  d.mark32Unbounded();
  d.updateBounds();
}
function arsh32(d: Scalar, s: Scalar): void {
  const sh = s.u32min;
  d.s32min = d.s32min >> sh;
  d.s32max = d.s32max >> sh;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), Number(sh), 32);
  d.u32min = 0n; d.u32max = U32;
  d.mark64Unbounded();
  d.updateBounds32();
}
function arsh64(d: Scalar, s: Scalar): void {
  const sh = s.umin;
  d.smin >>= sh;
  d.smax >>= sh;
  d.varOff = tnumArshift(d.varOff, Number(sh), 64);
  d.umin = 0n; d.umax = U64;
  d.mark32Unbounded();
  d.updateBounds();
}

/**
 * dst = dst OP src on scalars, in place. The caller has already checked the
 * operand types; `src` is not modified. Ops the kernel does not track
 * (div, mod, and shifts by a non-constant) give an unknown scalar.
 */
export function scalarAlu(opc: number, dst: Scalar, src: Scalar, alu32: boolean): void {
  if (!canComputeRange(opc, src, alu32)) {
    dst.markUnknown();
    return;
  }
  // Constant OP constant: the tnum result is exact and the (sound) bounds contain it, so the
  // full computation below ends, after reg_bounds_sync, in exactly this constant. Most ALU
  // instructions of real programs compute offsets and flags from constants.
  if (dst.isExactConst() && src.isExactConst()) {
    const r = constAlu(opc, dst.varOff.value, src.varOff.value, alu32);
    if (r !== undefined) {
      dst.markKnown(r);
      return;
    }
  }
  switch (opc) {
    case op.BPF_ADD:
      add32(dst, src); add64(dst, src);
      dst.varOff = tnumAdd(dst.varOff, src.varOff);
      break;
    case op.BPF_SUB:
      sub32(dst, src); sub64(dst, src);
      dst.varOff = tnumSub(dst.varOff, src.varOff);
      break;
    case op.BPF_MUL:
      dst.varOff = tnumMul(dst.varOff, src.varOff);
      mul32(dst, src); mul64(dst, src);
      break;
    case op.BPF_AND:
      dst.varOff = tnumAnd(dst.varOff, src.varOff);
      and32(dst, src); and64(dst, src);
      break;
    case op.BPF_OR:
      dst.varOff = tnumOr(dst.varOff, src.varOff);
      or32(dst, src); or64(dst, src);
      break;
    case op.BPF_XOR:
      dst.varOff = tnumXor(dst.varOff, src.varOff);
      xor32(dst, src); xor64(dst, src);
      break;
    case op.BPF_LSH:
      if (alu32) lsh32(dst, src); else lsh64(dst, src);
      break;
    case op.BPF_RSH:
      if (alu32) rsh32(dst, src); else rsh64(dst, src);
      break;
    case op.BPF_ARSH:
      if (alu32) arsh32(dst, src); else arsh64(dst, src);
      break;
  }
  if (alu32) dst.zext32();
  dst.sync();
}

/** The concrete result of a tracked ALU op on two constants (undefined for ops not tracked). */
function constAlu(opc: number, a: bigint, b: bigint, alu32: boolean): bigint | undefined {
  if (alu32) {
    const x = u32(a), y = u32(b);
    switch (opc) {
      case op.BPF_ADD: return u32(x + y);
      case op.BPF_SUB: return u32(x - y);
      case op.BPF_MUL: return u32(x * y);
      case op.BPF_AND: return x & y;
      case op.BPF_OR: return x | y;
      case op.BPF_XOR: return x ^ y;
      case op.BPF_LSH: return u32(x << y);
      case op.BPF_RSH: return x >> y;
      case op.BPF_ARSH: return u32(s32(x) >> y);
    }
    return undefined;
  }
  switch (opc) {
    case op.BPF_ADD: return u64(a + b);
    case op.BPF_SUB: return u64(a - b);
    case op.BPF_MUL: return u64(a * b);
    case op.BPF_AND: return a & b;
    case op.BPF_OR: return a | b;
    case op.BPF_XOR: return a ^ b;
    case op.BPF_LSH: return u64(a << b);
    case op.BPF_RSH: return a >> b;
    case op.BPF_ARSH: return u64(s64(a) >> b);
  }
  return undefined;
}

// --- conditional jumps (is_scalar_branch_taken, regs_refine_cond_op) ---

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
export const JSET_NOT = op.BPF_JSET | op.BPF_X;

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
  const t1 = jmp32 ? tnumSubreg(a.varOff) : a.varOff;
  const t2 = jmp32 ? tnumSubreg(b.varOff) : b.varOff;
  const umin1 = jmp32 ? a.u32min : a.umin, umax1 = jmp32 ? a.u32max : a.umax;
  const smin1 = jmp32 ? a.s32min : a.smin, smax1 = jmp32 ? a.s32max : a.smax;
  const umin2 = jmp32 ? b.u32min : b.umin, umax2 = jmp32 ? b.u32max : b.umax;
  const smin2 = jmp32 ? b.s32min : b.smin, smax2 = jmp32 ? b.s32max : b.smax;
  const disjoint = (): boolean =>
    !tnumOverlap(t1, t2) || umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2 ||
    (!jmp32 && (a.u32min > b.u32max || a.u32max < b.u32min || a.s32min > b.s32max || a.s32max < b.s32min));
  switch (opc) {
    case op.BPF_JEQ:
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value === t2.value ? 1 : 0;
      return disjoint() ? 0 : -1;
    case op.BPF_JNE:
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value !== t2.value ? 1 : 0;
      return disjoint() ? 1 : -1;
    case op.BPF_JSET: {
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
export function refineCond(r1: Scalar, r2: Scalar, opc: number, jmp32: boolean): void {
  if (opc === op.BPF_JGE || opc === op.BPF_JGT || opc === op.BPF_JSGE || opc === op.BPF_JSGT) {
    opc = flipCond(opc);
    [r1, r2] = [r2, r1];
  }
  switch (opc) {
    case op.BPF_JEQ:
      if (jmp32) {
        r1.u32min = max(r1.u32min, r2.u32min); r1.u32max = min(r1.u32max, r2.u32max);
        r1.s32min = max(r1.s32min, r2.s32min); r1.s32max = min(r1.s32max, r2.s32max);
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
        if (r1.u32min === u32(v)) r1.u32min++;
        if (r1.u32max === u32(v)) r1.u32max--;
        if (r1.s32min === s32(v)) r1.s32min++;
        if (r1.s32max === s32(v)) r1.s32max--;
      } else {
        if (r1.umin === v) r1.umin++;
        if (r1.umax === v) r1.umax--;
        if (r1.smin === s64(v)) r1.smin++;
        if (r1.smax === s64(v)) r1.smax--;
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
      if (jmp32) { r1.u32max = min(r1.u32max, r2.u32max); r2.u32min = max(r1.u32min, r2.u32min); }
      else { r1.umax = min(r1.umax, r2.umax); r2.umin = max(r1.umin, r2.umin); }
      break;
    case op.BPF_JLT:
      if (jmp32) { r1.u32max = min(r1.u32max, u32(r2.u32max - 1n)); r2.u32min = max(u32(r1.u32min + 1n), r2.u32min); }
      else { r1.umax = min(r1.umax, u64(r2.umax - 1n)); r2.umin = max(u64(r1.umin + 1n), r2.umin); }
      break;
    case op.BPF_JSLE:
      if (jmp32) { r1.s32max = min(r1.s32max, r2.s32max); r2.s32min = max(r1.s32min, r2.s32min); }
      else { r1.smax = min(r1.smax, r2.smax); r2.smin = max(r1.smin, r2.smin); }
      break;
    case op.BPF_JSLT:
      if (jmp32) { r1.s32max = min(r1.s32max, s32(r2.s32max - 1n)); r2.s32min = max(s32(r1.s32min + 1n), r2.s32min); }
      else { r1.smax = min(r1.smax, s64(r2.smax - 1n)); r2.smin = max(s64(r1.smin + 1n), r2.smin); }
      break;
  }
}

/** Both sides of a branch on scalars: [taken, not taken] copies of (a, b), each synced; null where infeasible. */
export function branchScalars(a: Scalar, b: Scalar, opc: number, jmp32: boolean): { t: [Scalar, Scalar] | null; f: [Scalar, Scalar] | null } {
  const ta = a.clone(), tb = b.clone(), fa = a.clone(), fb = b.clone();
  refineCond(ta, tb, opc, jmp32); ta.sync(); tb.sync();
  refineCond(fa, fb, negateCond(opc), jmp32); fa.sync(); fb.sync();
  return { t: ta.isEmpty() || tb.isEmpty() ? null : [ta, tb], f: fa.isEmpty() || fb.isEmpty() ? null : [fa, fb] };
}
