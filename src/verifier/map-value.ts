/**
 * The rules of a region with a known size: a map value or key
 * (check_map_access) and memory from a helper (check_mem_region_access):
 * the lowest and the highest byte an access may touch, given the pointer's
 * fixed offset and the bounds of its variable offset, must lie inside it.
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { BPF_MAX_VAR_OFF, Verifier } from './check.js';

/** Bounds of a map value / memory region access with a variable offset (check_map_access, check_mem_region_access). */
export function checkRegion(v: Verifier, br: number, base: Reg, off: number, size: number, limit: number, what: 'map' | 'mem'): void {
  const i = v.idx;
  const s = base.s;
  if (s.smin < 0n && !(s.isConst()))
    throw new Reject({
      errno: 'EACCES',
      message: `R${br} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      insn: i,
      regs: [br],
      hint: 'make the index unsigned, or check `if (idx < 0) return ...` before using it',
      rule: 'the offset into the map value may be negative',
    });
  const lo = BigInt(base.off + off) + s.smin;
  if (lo < 0n || lo + BigInt(size) > BigInt(limit)) {
    throw new Reject({
      errno: 'EACCES',
      message: (what === 'map'
      ? `invalid access to map value, value_size=${limit} off=${lo} size=${size}`
      : `invalid access to memory, mem_size=${limit} off=${lo} size=${size}`) + `\nR${br} min value is outside of the allowed memory range`,
      insn: i,
      regs: [br],
      hint: `the access covers bytes ${lo}..${lo + BigInt(size) - 1n} but the ${what === 'map' ? 'value' : 'region'} has ${limit} bytes`,
      rule: `the access is outside the ${what === 'map' ? 'map value' : 'memory region'}`,
    });
  }
  if (s.umax >= BigInt(BPF_MAX_VAR_OFF))
    throw new Reject({
      errno: 'EACCES',
      message: `R${br} unbounded memory access, make sure to bounds check any such access`,
      insn: i,
      regs: [br],
      hint: 'bound the index first, e.g. `if (idx >= N) return ...` or `idx &= N - 1`',
      rule: 'the offset has no upper bound',
    });
  const hi = BigInt(base.off + off) + s.umax;
  if (hi + BigInt(size) > BigInt(limit)) {
    throw new Reject({
      errno: 'EACCES',
      message: (what === 'map'
      ? `invalid access to map value, value_size=${limit} off=${hi} size=${size}`
      : `invalid access to memory, mem_size=${limit} off=${hi} size=${size}`) + `\nR${br} max value is outside of the allowed memory range`,
      insn: i,
      regs: [br],
      hint: `the index can reach ${s.umax}; check it against ${BigInt(limit) - BigInt(base.off + off) - BigInt(size)} before the access`,
      rule: `the access may go past the end of the ${what === 'map' ? 'map value' : 'memory region'}`,
    });
  }
}
