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
  // a value already in [0, 2^64) is taken as is (no masking: a bigint allocated per constant)
  return v >= 0n && v <= U64 ? { value: v, mask: 0n } : TN(v, 0n);
}

const S64_MIN = -(1n << 63n);

/**
 * The halves of a bigint are read through a typed array: storing a bigint into
 * a BigInt64Array element takes it modulo 2^64 without allocating, and the two
 * Uint32 views of that element are its halves. In Node.js 20's V8 this costs
 * about a nanosecond, where Number(v) costs 15-30 ns and `v & 0xffffffffn` or
 * `v >> 32n` allocate a bigint each; the scalar domain reads halves on every
 * bounds sync.
 */
const HALVES64 = new BigInt64Array(1);
const HALVES32 = new Uint32Array(HALVES64.buffer);
/** Which Uint32 element holds the low half (the platform's byte order). */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** The low 32 bits of a bigint (any sign; two's complement), unsigned, as a number, without allocating. */
export function lo32(v: bigint): number {
  HALVES64[0] = v; // (BigInt64Array stores take any bigint modulo 2^64: the low half is unchanged)
  return HALVES32[LO]!;
}

/** `v >> 32n` (arithmetic: the signed upper half of a negative v), as a number, without allocating in [-2^63, 2^64). */
export function hi32(v: bigint): number {
  if (v > U64 || v < S64_MIN) return Number(v >> 32n); // (a bound stepped past its type's edge)
  HALVES64[0] = v;
  const h = HALVES32[HI]!;
  return v < 0n ? h | 0 : h;
}

/**
 * Both halves of a bigint in [0, 2^64) (a tnum's value or mask): the low one
 * returned, the high one left in H.hi (an object field, stored in place).
 */
const H = { hi: 0.5 }; // (created as a double: stores of halves past 2^30 stay in place)
function halves(v: bigint): number {
  HALVES64[0] = v;
  H.hi = HALVES32[HI]!;
  return HALVES32[LO]!;
}

/**
 * A bigint in [0, 2^32) as a number, without allocating: Number(v)'s value,
 * for the callers that have checked the range with bigint comparisons.
 */
export function small32(v: bigint): number {
  HALVES64[0] = v;
  return HALVES32[LO]!;
}

/** Position of the highest set bit, 1-based (fls64); 0 for 0. */
function fls64(v: bigint): number {
  // On the two 32-bit halves as numbers: v.toString(2) allocates a string on a hot path
  // (tnumRange runs on every bounds sync).
  const hi = hi32(v);
  if (hi) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(lo32(v));
}

/** 2^n - 1 for n = 0..64 (tnumRange's delta, built once). */
const LOW_MASKS: readonly bigint[] = Array.from({ length: 65 }, (_, n) => (1n << BigInt(n)) - 1n);

/** The smallest tnum covering every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  if (min === max) return tnumConst(min);
  if (min >= 0n && min <= U64 && max >= 0n && max <= U64) {
    // on halves: fls64(min ^ max), then min & ~delta with delta = 2^bits - 1
    const xl = halves(max), xh = H.hi, ml = halves(min), mh = H.hi;
    const ch = (mh ^ xh) >>> 0;
    const bits = ch ? 64 - Math.clz32(ch) : 32 - Math.clz32((ml ^ xl) >>> 0);
    if (bits > 63) return tnumUnknown;
    const dl = bits >= 32 ? 0xffffffff : 2 ** bits - 1, dh = bits > 32 ? 2 ** (bits - 32) - 1 : 0;
    return { value: bigOf((ml & ~dl) >>> 0, (mh & ~dh) >>> 0), mask: LOW_MASKS[bits]! };
  }
  const chi = u64(min) ^ u64(max);
  const bits = fls64(chi);
  if (bits > 63) return tnumUnknown;
  return TN(min & ~LOW_MASKS[bits]!, LOW_MASKS[bits]!);
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

// The binary operations below run on the operands' 32-bit halves, as numbers, and build
// the result's two bigints once at the end (bigint arithmetic allocates one per step:
// tnum_add was a dozen). Every step is the kernel's, modulo 2^64, half by half with the
// carry or borrow between the halves.

/** A tnum from its halves (each in [0, 2^32)), allocating only what is not shared. */
function fromHalves(vl: number, vh: number, ml: number, mh: number): Tnum {
  return { value: bigOf(vl, vh), mask: bigOf(ml, mh) };
}

const U64_HALVES = new BigUint64Array(HALVES64.buffer);
/** The bigint hi * 2^32 + lo. */
function bigOf(lo: number, hi: number): bigint {
  if (hi === 0) return lo <= 1024 ? smallBig(lo) : lo === 0xffffffff ? U32 : BigInt(lo);
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo); // (below 2^53: exact as a double)
  if (hi === 0xffffffff && lo === 0xffffffff) return U64;
  HALVES32[LO] = lo;
  HALVES32[HI] = hi;
  return U64_HALVES[0]!;
}
/**
 * BigInt(n) for 0 <= n <= 1024 without allocating, each made at its first use: the whole table
 * built at import (1,025 bigints, twice: scalar.ts had its own) was part of every command's start,
 * verifying or not (BENCHMARKS.md, "Start-up").
 */
const SMALL: bigint[] = new Array<bigint>(1025);
export function smallBig(n: number): bigint {
  return SMALL[n] ?? (SMALL[n] = BigInt(n));
}

/** tnum_add on halves; the result in R. */
function addHalves(av: number, avh: number, am: number, amh: number, bv: number, bvh: number, bm: number, bmh: number): void {
  let l = am + bm;
  const sml = l >>> 0, smh = (amh + bmh + (l > 0xffffffff ? 1 : 0)) >>> 0;
  l = av + bv;
  const svl = l >>> 0, svh = (avh + bvh + (l > 0xffffffff ? 1 : 0)) >>> 0;
  l = sml + svl;
  const sgl = l >>> 0, sgh = (smh + svh + (l > 0xffffffff ? 1 : 0)) >>> 0;
  const mul = ((sgl ^ svl) | am | bm) >>> 0, muh = ((sgh ^ svh) | amh | bmh) >>> 0;
  R.vl = (svl & ~mul) >>> 0; R.vh = (svh & ~muh) >>> 0; R.ml = mul; R.mh = muh;
}
/** addHalves' result (fields created as doubles: stores past 2^30 stay in place). */
const R = { vl: 0.5, vh: 0.5, ml: 0.5, mh: 0.5 };

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  addHalves(av, avh, am, amh, bv, bvh, bm, bmh);
  return fromHalves(R.vl, R.vh, R.ml, R.mh);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  // dv = a.value - b.value
  let l = av - bv;
  const dvl = l >>> 0, dvh = (avh - bvh - (l < 0 ? 1 : 0)) >>> 0;
  // alpha = dv + a.mask, beta = dv - b.mask
  l = dvl + am;
  const all = l >>> 0, alh = (dvh + amh + (l > 0xffffffff ? 1 : 0)) >>> 0;
  l = dvl - bm;
  const bel = l >>> 0, beh = (dvh - bmh - (l < 0 ? 1 : 0)) >>> 0;
  const mul = ((all ^ bel) | am | bm) >>> 0, muh = ((alh ^ beh) | amh | bmh) >>> 0;
  return fromHalves((dvl & ~mul) >>> 0, (dvh & ~muh) >>> 0, mul, muh);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  const vl = av & bv, vh = avh & bvh;
  return fromHalves(vl >>> 0, vh >>> 0, ((av | am) & (bv | bm) & ~vl) >>> 0, ((avh | amh) & (bvh | bmh) & ~vh) >>> 0);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  const vl = av | bv, vh = avh | bvh;
  return fromHalves(vl >>> 0, vh >>> 0, ((am | bm) & ~vl) >>> 0, ((amh | bmh) & ~vh) >>> 0);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  const mul = am | bm, muh = amh | bmh;
  return fromHalves(((av ^ bv) & ~mul) >>> 0, ((avh ^ bvh) & ~muh) >>> 0, mul >>> 0, muh >>> 0);
}

/**
 * Multiplication by long multiplication over b's shifted copies: a known-1
 * bit of `a` adds b's uncertainty, an unknown bit adds all of b's possible
 * bits; the known product of the values is added at the end.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let al = halves(a.value), ah = H.hi, aml = halves(a.mask), amh = H.hi;
  let bl = halves(b.value), bh = H.hi, bml = halves(b.mask), bmh = H.hi;
  // accM, on halves: tnum_add(accM, tnum(0, m)) for each known-1 (m = b.mask) or unknown
  // (m = b.value | b.mask) bit of a, b shifted left by one per bit of a
  let vl = 0, vh = 0, ml = 0, mh = 0;
  while (al !== 0 || ah !== 0 || aml !== 0 || amh !== 0) {
    if (al & 1) { addHalves(vl, vh, ml, mh, 0, 0, bml, bmh); vl = R.vl; vh = R.vh; ml = R.ml; mh = R.mh; }
    else if (aml & 1) { addHalves(vl, vh, ml, mh, 0, 0, (bl | bml) >>> 0, (bh | bmh) >>> 0); vl = R.vl; vh = R.vh; ml = R.ml; mh = R.mh; }
    al = ((al >>> 1) | (ah << 31)) >>> 0; ah >>>= 1;
    aml = ((aml >>> 1) | (amh << 31)) >>> 0; amh >>>= 1;
    bh = ((bh << 1) | (bl >>> 31)) >>> 0; bl = (bl << 1) >>> 0;
    bmh = ((bmh << 1) | (bml >>> 31)) >>> 0; bml = (bml << 1) >>> 0;
  }
  const cl = halves(accV), ch = H.hi;
  addHalves(cl, ch, 0, 0, vl, vh, ml, mh);
  return fromHalves(R.vl, R.vh, R.ml, R.mh);
}

/** Both describe the same concrete value: keep every bit known in either. */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  const mul = am & bm, muh = amh & bmh;
  return fromHalves(((av | bv) & ~mul) >>> 0, ((avh | bvh) & ~muh) >>> 0, mul >>> 0, muh >>> 0);
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
  // The two commonest cases first (it runs on every scalar regsafe): a known constant, and a
  // fully unknown a (whose value is 0: values are normalised).
  if (a.mask === 0n) return b.mask === 0n && a.value === b.value;
  if (a.mask === U64) return a.value === 0n;
  // b.mask & ~a.mask == 0 and a.value == b.value & ~a.mask, half by half (no bigint built)
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  if ((bm & ~am) !== 0 || (bmh & ~amh) !== 0) return false;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  return av === ((bv & ~am) >>> 0) && avh === ((bvh & ~amh) >>> 0);
}

/** Whether some concrete value is a member of both. */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  // (a.value & mu) == (b.value & mu) with mu the bits known in both, half by half
  const am = halves(a.mask), amh = H.hi, bm = halves(b.mask), bmh = H.hi;
  const av = halves(a.value), avh = H.hi, bv = halves(b.value), bvh = H.hi;
  const mu = ~am & ~bm, muh = ~amh & ~bmh;
  return ((av ^ bv) & mu) === 0 && ((avh ^ bvh) & muh) === 0;
}

export function tnumSubreg(a: Tnum): Tnum {
  const m = halves(a.mask), v = halves(a.value);
  return fromHalves(v, 0, m, 0);
}
export function tnumClearSubreg(a: Tnum): Tnum {
  halves(a.mask);
  const mh = H.hi;
  halves(a.value);
  return fromHalves(0, H.hi, 0, mh);
}
/** The upper half of reg, the lower one of subreg. */
export function tnumWithSubreg(reg: Tnum, subreg: Tnum): Tnum {
  halves(reg.mask);
  const mh = H.hi;
  halves(reg.value);
  const vh = H.hi;
  return fromHalves(halves(subreg.value), vh, halves(subreg.mask), mh);
}
/** tnumWithSubreg(reg, tnum(vl, ml)) for a low half given as numbers (vl & ml == 0). */
export function tnumWithLow(reg: Tnum, vl: number, ml: number): Tnum {
  halves(reg.mask);
  const mh = H.hi;
  halves(reg.value);
  return fromHalves(vl, H.hi, ml, mh);
}
export const tnumSubregIsConst = (a: Tnum): boolean => lo32(a.mask) === 0;

/** Whether concrete `v` is a member of `a`. */
export function tnumContains(a: Tnum, v: bigint): boolean {
  if (v < 0n || v > U64) v = u64(v);
  const x = halves(v), xh = H.hi, m = halves(a.mask), mh = H.hi, t = halves(a.value), th = H.hi;
  return ((x & ~m) >>> 0) === t && ((xh & ~mh) >>> 0) === th;
}

/** The kernel's `(0x..; 0x..)` rendering (tnum_strn). */
export function tnumStr(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
