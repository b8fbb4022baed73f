/**
 * Tristate numbers: a 64-bit value where each bit is known 0, known 1 or
 * unknown, as kernel/bpf/tnum.c defines them. `value` holds the known 1 bits,
 * `mask` the unknown bits; a bit set in both never occurs. Every operation
 * over-approximates: each concrete result of the operation on members of the
 * inputs is a member of the output.
 *
 * Values are unsigned 64-bit bigints (always normalised into [0, 2^64)).
 */

export const U64 = (1n << 64n) - 1n;
export const U32 = 0xffffffffn;

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

const u64 = (v: bigint): bigint => v & U64;
const TN = (value: bigint, mask: bigint): Tnum => ({ value: value & U64, mask: mask & U64 });
/** For results already in [0, 2^64) (and/or/xor/intersect/truncate/right shift of normalised inputs). */
const TNraw = (value: bigint, mask: bigint): Tnum => ({ value, mask });
/** Masks of the low 1, 2, 4, 8 bytes, by size (built once: tnumCast runs on every subregister view). */
const BYTE_MASKS: readonly bigint[] = [0n, 0xffn, 0xffffn, 0xffffffn, 0xffffffffn, 0xffffffffffn, 0xffffffffffffn, 0xffffffffffffffn, U64];

export const tnumUnknown: Tnum = Object.freeze({ value: 0n, mask: U64 });

export function tnumConst(v: bigint): Tnum {
  return TN(v, 0n);
}

/** Position of the highest set bit, 1-based (fls64); 0 for 0. */
function fls64(v: bigint): number {
  // On the two 32-bit halves as numbers: v.toString(2) allocates a string on a hot path
  // (tnumRange runs on every bounds sync).
  const hi = Number(v >> 32n);
  if (hi) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(Number(v & 0xffffffffn));
}

/** The smallest tnum covering every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  if (min === max) return TN(min, 0n);
  const chi = u64(min) ^ u64(max);
  const bits = fls64(chi);
  if (bits > 63) return tnumUnknown;
  const delta = (1n << BigInt(bits)) - 1n;
  return TN(min & ~delta, delta);
}

export const tnumLshift = (a: Tnum, s: number): Tnum => TN(a.value << BigInt(s), a.mask << BigInt(s));
export const tnumRshift = (a: Tnum, s: number): Tnum => TNraw(a.value >> BigInt(s), a.mask >> BigInt(s));

/**
 * Arithmetic shift: a negative value's sign bit is known 1 and shifts in
 * ones; an unknown sign bit shifts in unknowns (the mask is shifted
 * arithmetically too), exactly as the kernel does it.
 */
export function tnumArshift(a: Tnum, minShift: number, bitness: 32 | 64): Tnum {
  const s = BigInt(minShift);
  if (bitness === 32) {
    return TN(BigInt.asUintN(32, BigInt.asIntN(32, a.value) >> s), BigInt.asUintN(32, BigInt.asIntN(32, a.mask) >> s));
  }
  return TN(BigInt.asIntN(64, a.value) >> s, BigInt.asIntN(64, a.mask) >> s);
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return TN(sv & ~mu, mu);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return TN(dv & ~mu, mu);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return TNraw(v, alpha & beta & ~v);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return TNraw(v, mu & ~v);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return TNraw(v & ~mu, mu);
}

/**
 * Multiplication by long multiplication over b's shifted copies: a known-1
 * bit of `a` adds b's uncertainty, an unknown bit adds all of b's possible
 * bits; the known product of the values is added at the end.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let accM: Tnum = TN(0n, 0n);
  let av = a.value, am = a.mask, bv = b.value, bm = b.mask;
  while (av !== 0n || am !== 0n) {
    if (av & 1n) accM = tnumAdd(accM, TN(0n, bm));
    else if (am & 1n) accM = tnumAdd(accM, TN(0n, bv | bm));
    av >>= 1n; am >>= 1n;
    bv = u64(bv << 1n); bm = u64(bm << 1n);
  }
  return tnumAdd(TN(accV, 0n), accM);
}

/** Both describe the same concrete value: keep every bit known in either. */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return TNraw(v & ~mu, mu);
}

/** Truncate to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  const m = size >= 8 ? U64 : BYTE_MASKS[size] ?? (1n << BigInt(size * 8)) - 1n;
  return TNraw(a.value & m, a.mask & m);
}

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64;

export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (!size) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Every member of b is a member of a. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  // The two commonest cases without a bigint allocated (it runs on every scalar regsafe):
  // a known constant, and a fully unknown a (whose value is 0: values are normalised).
  if (a.mask === 0n) return b.mask === 0n && a.value === b.value;
  if (a.mask === U64) return a.value === 0n;
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
}

/** Whether some concrete value is a member of both. */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const mu = ~a.mask & ~b.mask & U64;
  return (a.value & mu) === (b.value & mu);
}

export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
export const tnumWithSubreg = (reg: Tnum, subreg: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
export const tnumSubregIsConst = (a: Tnum): boolean => (a.mask & U32) === 0n;

/** Whether concrete `v` is a member of `a`. */
export const tnumContains = (a: Tnum, v: bigint): boolean => (u64(v) & ~a.mask) === a.value;

/** The kernel's `(0x..; 0x..)` rendering (tnum_strn). */
export function tnumStr(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
