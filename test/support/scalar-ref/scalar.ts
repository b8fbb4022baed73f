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
 *
 * This module holds the domain and its reconciliation; scalar-alu.ts is how
 * an ALU operation changes it, scalar-branch.ts what a comparison decides
 * and teaches each side.
 */
import { tnumConst, type Tnum, U64, U32, tnumIsConst, tnumUnknown, tnumRange, tnumIntersect, tnumSubreg, tnumClearSubreg, tnumOr, tnumSubregIsConst, tnumWithSubreg, tnumCast, tnumContains, tnumIn } from './tnum.js';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;

export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
export const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
// Hoisted so that the hot paths below do not rebuild them on every call.
const BIT63 = 1n << 63n;
const HI32 = U64 ^ U32;
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

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
