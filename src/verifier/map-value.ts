/**
 * The rules of a region with a known size: a map value or key
 * (check_map_access) and memory from a helper (check_mem_region_access):
 * the lowest and the highest byte an access may touch, given the pointer's
 * fixed offset and the bounds of its variable offset, must lie inside it.
 */
import { checkMapFields } from './spin-lock.js';
import { Reg, regTypeStr } from './types.js';
import { Reject } from './reject.js';
import { type Verifier, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BPF_MAX_VAR_OFF } from './env.js';
import { loadedScalar } from './ldst.js';
import { kptrAt, kptrAccess } from './kptr.js';
import { small32, U32 } from './tnum.js';

/** Bounds of a map value / memory region access with a variable offset (check_map_access, check_mem_region_access). */
export function checkRegion(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, limit: number, what: 'map' | 'mem', direct = false): void {
  const s = base.s;
  // The common case on numbers: an offset in [0, 2^32) that fits, checked without the bigints
  // the checks below build (BigInt() of the offset, size and limit, each a heap allocation);
  // anything else, a failure included, goes through them, which also say why.
  if (s.smin >= 0n && s.smin <= U32 && s.umax <= U32) {
    const o = base.off + off, umax = small32(s.umax), lo = o + small32(s.smin);
    if (lo >= 0 && lo + size <= limit && umax < BPF_MAX_VAR_OFF && o + umax + size <= limit) {
      if (what === 'map' && base.type === 'map_value') checkMapFields(env, ptrReg, base, off, size, direct);
      return;
    }
  }
  const i = env.idx;
  if (s.smin < 0n && !(s.isConst()))
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      insn: i,
      regs: [ptrReg],
      hint: 'make the index unsigned, or check `if (idx < 0) return ...` before using it',
      rule: 'the offset into the map value may be negative',
    });
  const lo = BigInt(base.off + off) + s.smin;
  if (lo < 0n || lo + BigInt(size) > BigInt(limit)) {
    throw new Reject({
      errno: 'EACCES',
      message: (what === 'map'
      ? `invalid access to map ${base.type === 'map_key' ? 'key, key_size' : 'value, value_size'}=${limit} off=${lo} size=${size}`
      : `invalid access to memory, mem_size=${limit} off=${lo} size=${size}`) + `\nR${ptrReg} min value is outside of the allowed memory range`,
      insn: i,
      regs: [ptrReg],
      hint: `the access covers bytes ${lo}..${lo + BigInt(size) - 1n} but the ${what === 'map' ? 'value' : 'region'} has ${limit} bytes`,
      rule: `the access is outside the ${what === 'map' ? 'map value' : 'memory region'}`,
    });
  }
  if (s.umax >= BigInt(BPF_MAX_VAR_OFF))
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} unbounded memory access, make sure to bounds check any such access`,
      insn: i,
      regs: [ptrReg],
      hint: 'bound the index first, e.g. `if (idx >= N) return ...` or `idx &= N - 1`',
      rule: 'the offset has no upper bound',
    });
  const hi = BigInt(base.off + off) + s.umax;
  if (hi + BigInt(size) > BigInt(limit)) {
    throw new Reject({
      errno: 'EACCES',
      message: (what === 'map'
      ? `invalid access to map ${base.type === 'map_key' ? 'key, key_size' : 'value, value_size'}=${limit} off=${hi} size=${size}`
      : `invalid access to memory, mem_size=${limit} off=${hi} size=${size}`) + `\nR${ptrReg} max value is outside of the allowed memory range`,
      insn: i,
      regs: [ptrReg],
      hint: `the index can reach ${s.umax}; check it against ${BigInt(limit) - BigInt(base.off + off) - BigInt(size)} before the access`,
      rule: `the access may go past the end of the ${what === 'map' ? 'map value' : 'memory region'}`,
    });
  }
  // check_map_access: the value's lock and timer are not the program's to read or write
  if (what === 'map' && base.type === 'map_value') checkMapFields(env, ptrReg, base, off, size, direct);
}

/** check_map_access_type and check_map_access: a load or store through a map value (or a callback's key) pointer. */
export function mapValueAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, valReg: number, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const val = valReg >= 0 ? env.regs()[valReg]! : undefined;
  if (write && base.type === 'map_key') throw new Reject({
    errno: 'EACCES',
    message: `write to change key R${ptrReg} not allowed`,
    insn: i,
    regs: [ptrReg],
    rule: 'the key passed to a for_each_map_elem callback is read-only',
  });
  if (!write && (env.maps[base.map]?.flags ?? 0) & BPF_F_WRONLY_PROG && base.type === 'map_value')
    throw new Reject({
      errno: 'EACCES',
      message: `read from map forbidden, value_size=${env.maps[base.map]!.valueSize} off=${base.off + off} size=${size}`,
      insn: i,
      regs: [ptrReg],
      rule: 'the map is write-only for programs (BPF_F_WRONLY_PROG)',
    });
  if (write && val?.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${valReg} leaks addr into map`,
    insn: i,
    regs: [valReg],
  });
  const m = env.maps[base.map];
  const limit = base.type === 'map_key' ? (m?.keySize ?? 0) : (m?.valueSize ?? 0);
  if (write && m && base.type === 'map_value' && (m.flags & BPF_F_RDONLY_PROG))
    throw new Reject({
      errno: 'EACCES',
      message: `write into map forbidden, value_size=${limit} off=${base.off + off} size=${size}`,
      insn: i,
      regs: [ptrReg],
      rule: 'the map is read-only for programs (BPF_F_RDONLY_PROG, e.g. .rodata)',
    });
  checkRegion(env, ptrReg, base, off, size, limit, 'map', true);
  // check_mem_access: an access at a kptr field is typed by the field (kptr.ts)
  const kptr = base.type === 'map_value' && base.s.isConst() ? kptrAt(env, base.map, base.off + off + Number(base.s.varOff.value)) : undefined;
  if (kptr) return kptrAccess(env, kptr, write, valReg);
  if (!write && base.type === 'map_value' && m && m.frozen && (m.flags & BPF_F_RDONLY_PROG) && m.contents && base.s.isConst() && size <= 8) {
    const start = base.off + off + Number(base.s.varOff.value);
    if (start >= 0 && start + size <= m.contents.length) {
      let v = 0n;
      for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(m.contents[start + k]!);
      if (signExtend) v = BigInt.asIntN(size * 8, v);
      return Reg.known(v);
    }
  }
  return write ? undefined : loadedScalar(size, signExtend);
}

/** check_mem_region_access for PTR_TO_MEM (ring buffer records, a global function's sized pointer arguments). */
export function memRegionAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, valReg: number, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const val = valReg >= 0 ? env.regs()[valReg]! : undefined;
  if (write && base.rdonly) throw new Reject({ errno: 'EACCES', message: `R${ptrReg} cannot write into ${regTypeStr(base)}`, insn: i, regs: [ptrReg] });
  if (write && val?.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${valReg} leaks addr into mem`,
    insn: i,
    regs: [valReg],
  });
  checkRegion(env, ptrReg, base, off, size, base.memSize, 'mem');
  return write ? undefined : loadedScalar(size, signExtend);
}
