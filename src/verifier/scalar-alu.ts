/**
 * The ALU transfer of the scalar domain (adjust_scalar_min_max_vals and its
 * scalar{32,}_min_max_{add,sub,mul,and,or,xor,lsh,rsh,arsh} helpers): the
 * bounds and the tnum of `dst OP src`, each view computed as the kernel
 * computes it, then reconciled (reg_bounds_sync).
 */
import * as op from '../isa/opcodes.js';
import { tnumAdd, tnumSub, U64, U32, tnumIsConst, tnumSubreg, tnumOr, tnumAnd, tnumXor, tnumMul, tnumLshift, tnumRshift, tnumArshift, tnumSubregIsConst } from './tnum.js';
import { Scalar, S64_MIN, S64_MAX, S32_MIN, S32_MAX, U32_MAX, s64, u64, s32, u32, max, min, lo32, toS64, toU64 } from './scalar.js';

/** The kernel tracks ranges only for these ops, and for shifts only by a constant below the width. */
function canComputeRange(opc: number, src: Scalar, alu32: boolean): boolean {
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

// The 32-bit bounds are numbers: sums, differences and the tracked products stay far below 2^53, exact.
function add32(d: Scalar, s: Scalar): void {
  const a = d.s32min + s.s32min, b = d.s32max + s.s32max;
  if (a < S32_MIN || a > S32_MAX || b < S32_MIN || b > S32_MAX) { d.s32min = S32_MIN; d.s32max = S32_MAX; }
  else { d.s32min = a; d.s32max = b; }
  const c = d.u32min + s.u32min, e = d.u32max + s.u32max;
  if (c > U32_MAX || e > U32_MAX) { d.u32min = 0; d.u32max = U32_MAX; } else { d.u32min = c; d.u32max = e; }
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
  if (d.u32min < s.u32max) { d.u32min = 0; d.u32max = U32_MAX; }
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
  if (s.s32min < 0 || d.s32min < 0) return d.mark32Unbounded();
  if (s.u32max > 0xffff || d.u32max > 0xffff) return d.mark32Unbounded();
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
  if ((d.u32min | 0) <= (d.u32max | 0)) { d.s32min = d.u32min | 0; d.s32max = d.u32max | 0; }
  else { d.s32min = S32_MIN; d.s32max = S32_MAX; }
}
function signed64FromU64(d: Scalar): void {
  const a = toS64(d.umin), b = toS64(d.umax);
  if (a <= b) { d.smin = a; d.smax = b; }
  else { d.smin = S64_MIN; d.smax = S64_MAX; }
}
function and32(d: Scalar, s: Scalar): void {
  const tv = lo32(d.varOff.value);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(tv);
  d.u32min = tv;
  d.u32max = Math.min(d.u32max, s.u32max);
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
  const tv = lo32(d.varOff.value);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(tv);
  d.u32min = Math.max(d.u32min, s.u32min);
  d.u32max = (tv | lo32(d.varOff.mask)) >>> 0;
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
  const tv = lo32(d.varOff.value);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) return d.markKnown32(tv);
  d.u32min = tv;
  d.u32max = (tv | lo32(d.varOff.mask)) >>> 0;
  signed32FromU32(d);
}
function xor64(d: Scalar, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) return d.markKnown(d.varOff.value);
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  signed64FromU64(d);
  d.updateBounds();
}
function lsh32Bounds(d: Scalar, umin: number, umax: number): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  // (multiplications by powers of two: the shifted bounds are at most 2^31, exact)
  if (umax > 31 || d.u32max > 2 ** (31 - umax)) { d.u32min = 0; d.u32max = U32_MAX; }
  else { d.u32min *= 2 ** umin; d.u32max *= 2 ** umax; }
}
function lsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  lsh32Bounds(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(sub, s.u32min));
  d.mark64Unbounded();
  d.updateBounds32();
}
function lsh64(d: Scalar, s: Scalar): void {
  const umin = s.umin, umax = s.umax;
  if (umin === 32n && umax === 32n) { d.smax = BigInt(d.s32max) << 32n; d.smin = BigInt(d.s32min) << 32n; }
  else { d.smax = S64_MAX; d.smin = S64_MIN; }
  if (d.umax > 1n << (63n - umax)) { d.umin = 0n; d.umax = U64; }
  else { d.umin = u64(d.umin << umin); d.umax = u64(d.umax << umax); }
  lsh32Bounds(d, Number(umin), Number(umax));
  d.varOff = tnumLshift(d.varOff, Number(umin));
  d.updateBounds();
}
function rsh32(d: Scalar, s: Scalar): void {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN; d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, s.u32min);
  d.u32min = Math.floor(d.u32min / 2 ** s.u32max);
  d.u32max = Math.floor(d.u32max / 2 ** s.u32min);
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
  // floor division: the bigint >> of the kernel's s32 bounds
  d.s32min = Math.floor(d.s32min / 2 ** sh);
  d.s32max = Math.floor(d.s32max / 2 ** sh);
  d.varOff = tnumArshift(tnumSubreg(d.varOff), sh, 32);
  d.u32min = 0; d.u32max = U32_MAX;
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
    case op.BPF_ADD: return toU64(a + b);
    case op.BPF_SUB: return toU64(a - b);
    case op.BPF_MUL: return toU64(a * b);
    case op.BPF_AND: return a & b;
    case op.BPF_OR: return a | b;
    case op.BPF_XOR: return a ^ b;
    case op.BPF_LSH: return toU64(a << b);
    case op.BPF_RSH: return a >> b;
    case op.BPF_ARSH: return toU64(s64(a) >> b);
  }
  return undefined;
}
