/**
 * murmur3's steps (hash-layout.ts hashBytes) as WebAssembly: the JIT's inline hash lookup
 * (inline-hash.ts) and the helpers' generic hash probe (helpers/hash-probe.ts) both hash keys with
 * them. A module of their own so that the probe, which every runtime builds, does not import the
 * JIT's inliners: one run on the tiered engine never loads the JIT's chunk (issue 17).
 */
import { Op, type FuncBody } from './wasm.js';
import { MURMUR } from '../../memory/hash-layout.js';

const rotl = (c: FuncBody, n: number): void => {
  c.i32Const(n);
  c.op(Op.i32_rotl);
};
/** k on the stack -> rotl(k * c1, 15) * c2 (murmur3's block mix) */
export function mixK(c: FuncBody): void {
  c.i32Const(MURMUR.c1 | 0);
  c.op(Op.i32_mul);
  rotl(c, 15);
  c.i32Const(MURMUR.c2 | 0);
  c.op(Op.i32_mul);
}

/** k on the stack -> h (local) = rotl(h ^ mixK(k), 13) * 5 + n (murmur3's block step) */
export function mixBlock(c: FuncBody, h: number): void {
  mixK(c);
  c.localGet(h);
  c.op(Op.i32_xor);
  rotl(c, 13);
  c.i32Const(5);
  c.op(Op.i32_mul);
  c.i32Const(MURMUR.n | 0);
  c.op(Op.i32_add);
  c.localSet(h);
}

/** h (local) = murmur3's fmix32(h) */
export function fmix32(c: FuncBody, h: number): void {
  for (const [shift, mul] of [[16, MURMUR.f1], [13, MURMUR.f2], [16, 0]] as const) {
    c.localGet(h);
    c.localGet(h);
    c.i32Const(shift);
    c.op(Op.i32_shr_u);
    c.op(Op.i32_xor);
    if (mul !== 0) {
      c.i32Const(mul | 0);
      c.op(Op.i32_mul);
    }
    c.localSet(h);
  }
}
