/**
 * The scalar domain (src/verifier/scalar*.ts) keeps its 32-bit bounds as
 * numbers and reads the halves of 64-bit bigints without allocating; the
 * kernel operations it models are unchanged. These tests run random
 * operations, in lockstep, through it and through the bigint domain as it
 * stood before (test/support/scalar-ref, every value a bigint) and require
 * the same result field by field: bounds reconciliation (reg_bounds_sync),
 * every tracked ALU op in both widths, both sides of every conditional jump,
 * is_scalar_branch_taken, the narrowing and sign-extending casts, the
 * predicates regsafe and the log read, and the tnum operations themselves
 * (computed on 32-bit halves). Values are drawn around the edges
 * where the halves meet: 2^31, 2^32, 2^53, 2^63, 2^64 and their negatives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scalar, lo32, hi32 } from '../src/verifier/scalar.js';
import { scalarAlu } from '../src/verifier/scalar-alu.js';
import { branchScalars, scalarBranchTaken } from '../src/verifier/scalar-branch.js';
import { Scalar as RefScalar } from './support/scalar-ref/scalar.js';
import { scalarAlu as refAlu } from './support/scalar-ref/scalar-alu.js';
import { branchScalars as refBranch, scalarBranchTaken as refTaken } from './support/scalar-ref/scalar-branch.js';
import * as op from '../src/isa/opcodes.js';
import * as T from '../src/verifier/tnum.js';
import * as RT from './support/scalar-ref/tnum.js';
import type { Tnum as RefTnum } from './support/scalar-ref/tnum.js';
import { rng } from './support/random.js';

const U64 = (1n << 64n) - 1n;
const EDGES: bigint[] = [];
for (const e of [0n, 1n << 7n, 1n << 8n, 1n << 15n, 1n << 16n, 1n << 31n, 1n << 32n, 1n << 33n, 1n << 52n, 1n << 53n, 1n << 54n, 1n << 63n]) {
  for (const d of [-2n, -1n, 0n, 1n, 2n]) EDGES.push(BigInt.asUintN(64, e + d), BigInt.asUintN(64, -(e + d)));
}

function fields(s: RefScalar | Scalar): string {
  return [s.varOff.value, s.varOff.mask, s.umin, s.umax, s.smin, s.smax, s.u32min, s.u32max, s.s32min, s.s32max].join(',');
}

/** The same scalar in the number-based domain. */
function fromRef(r: RefScalar): Scalar {
  return new Scalar(r.varOff, r.smin, r.smax, r.umin, r.umax, Number(r.s32min), Number(r.s32max), Number(r.u32min), Number(r.u32max));
}

function values(r: () => number): () => bigint {
  return () => {
    const k = r();
    if (k < 0.4) return EDGES[Math.floor(r() * EDGES.length)]!;
    const bits = BigInt(1 + Math.floor(r() * 64));
    const v = (BigInt(Math.floor(r() * 2 ** 32)) << 32n | BigInt(Math.floor(r() * 2 ** 32))) & ((1n << bits) - 1n);
    return k < 0.7 ? v : BigInt.asUintN(64, -v);
  };
}

test('lo32 / hi32 read the halves of any 64-bit bigint, signed or not', () => {
  const next = values(rng(1));
  for (let k = 0; k < 20000; k++) {
    const u = next();
    for (const v of [u, BigInt.asIntN(64, u)]) {
      assert.equal(lo32(v), Number(BigInt.asUintN(32, v)), `lo32(${v})`);
      assert.equal(hi32(v), Number(v >> 32n), `hi32(${v})`);
    }
  }
  // the edges a refinement can step a bound onto: one past each type's end
  for (const v of [1n << 64n, -1n, -(1n << 63n) - 1n, 1n << 63n]) {
    assert.equal(lo32(v), Number(BigInt.asUintN(32, v)));
    assert.equal(hi32(v), Number(v >> 32n));
  }
});

test('sync() equals the bigint reg_bounds_sync on arbitrary (also contradictory) 64-bit views', () => {
  const r = rng(20261207);
  const next = values(r);
  const pair = (f: () => bigint): [bigint, bigint] => {
    const a = f(), b = f();
    return r() < 0.8 ? (a <= b ? [a, b] : [b, a]) : [a, b];
  };
  const s64 = (): bigint => BigInt.asIntN(64, next());
  for (let k = 0; k < 20000; k++) {
    const mask = r() < 0.2 ? U64 : next();
    const value = next() & ~mask;
    const [umin, umax] = r() < 0.3 ? [0n, U64] : pair(next);
    const [smin, smax] = r() < 0.3 ? [-(1n << 63n), (1n << 63n) - 1n] : pair(s64);
    const [u32min, u32max] = r() < 0.3 ? [0n, 0xffffffffn] : pair(() => BigInt.asUintN(32, next()));
    const [s32min, s32max] = r() < 0.3 ? [-(1n << 31n), (1n << 31n) - 1n] : pair(() => BigInt.asIntN(32, next()));
    const ref = new RefScalar({ value, mask }, smin, smax, umin, umax, s32min, s32max, u32min, u32max);
    const mine = fromRef(ref);
    const input = fields(ref);
    ref.sync();
    mine.sync();
    assert.equal(fields(mine), fields(ref), `sync of ${input}`);
    assert.equal(mine.isEmpty(), ref.isEmpty(), `isEmpty after sync of ${input}`);
  }
});

const ALU_OPS = [op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_AND, op.BPF_OR, op.BPF_XOR, op.BPF_LSH, op.BPF_RSH, op.BPF_ARSH, op.BPF_DIV];
const JMP_OPS = [op.BPF_JEQ, op.BPF_JNE, op.BPF_JSET, op.BPF_JSET | op.BPF_X, op.BPF_JGT, op.BPF_JGE, op.BPF_JLT, op.BPF_JLE, op.BPF_JSGT, op.BPF_JSGE, op.BPF_JSLT, op.BPF_JSLE];

test('ALU ops, branches, casts and predicates give the same scalars as the bigint domain', () => {
  const r = rng(424242);
  const next = values(r);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const fresh = (): RefScalar => {
    const k = r();
    if (k < 0.35) return RefScalar.known(next());
    if (k < 0.45) return RefScalar.unknown();
    const a = next(), b = r() < 0.5 ? next() : a + BigInt(Math.floor(r() * 4096));
    return RefScalar.urange(a < b ? a : b & U64, a < b ? b & U64 : a);
  };
  // A pool of reachable scalars, as [reference, number-based] pairs compared at every step.
  const pool: [RefScalar, Scalar][] = [];
  const add = (ref: RefScalar, mine: Scalar, what: string): void => {
    assert.equal(fields(mine), fields(ref), what);
    // every tnum made is normalised (no bit both known 1 and unknown), as tnum.c's operations keep them
    assert.equal(mine.varOff.value & mine.varOff.mask, 0n, `${what}: tnum not normalised`);
    if (ref.isEmpty()) return;
    if (pool.length < 64) pool.push([ref, mine]);
    else pool[Math.floor(r() * pool.length)] = [ref, mine];
  };
  for (let k = 0; k < 64; k++) { const f = fresh(); add(f, fromRef(f), 'fresh'); }
  let branches = 0, decided = 0;
  for (let k = 0; k < 60000; k++) {
    const [ra, ma] = pick(pool);
    const [rb, mb] = r() < 0.15 ? (() => { const f = fresh(); return [f, fromRef(f)] as const; })() : pick(pool);
    const what = `step ${k}: a=${fields(ra)} b=${fields(rb)}`;
    const kind = r();
    if (kind < 0.45) {
      const o = pick(ALU_OPS), alu32 = r() < 0.4;
      let src = rb, msrc = mb;
      if ((o === op.BPF_LSH || o === op.BPF_RSH || o === op.BPF_ARSH) && r() < 0.8) {
        src = RefScalar.known(BigInt(Math.floor(r() * (alu32 ? 32 : 64))));
        msrc = fromRef(src);
      }
      const x = ra.clone(), y = ma.clone();
      refAlu(o, x, src, alu32);
      scalarAlu(o, y, msrc, alu32);
      add(x, y, `${what} alu op ${o} alu32=${alu32} src=${fields(src)}`);
    } else if (kind < 0.8) {
      const o = pick(JMP_OPS), jmp32 = r() < 0.4;
      branches++;
      const taken = refTaken(ra, rb, o, jmp32);
      assert.equal(scalarBranchTaken(ma, mb, o, jmp32), taken, `${what} taken op ${o} jmp32=${jmp32}`);
      if (taken !== -1) decided++;
      const want = refBranch(ra, rb, o, jmp32), got = branchScalars(ma, mb, o, jmp32);
      for (const side of ['t', 'f'] as const) {
        const w = want[side], g = got[side];
        assert.equal(g === null, w === null, `${what} branch op ${o} jmp32=${jmp32} side ${side} feasibility`);
        if (w && g) {
          add(w[0], g[0], `${what} branch op ${o} jmp32=${jmp32} side ${side} r1`);
          add(w[1], g[1], `${what} branch op ${o} jmp32=${jmp32} side ${side} r2`);
        }
      }
    } else if (kind < 0.92) {
      const x = ra.clone(), y = ma.clone();
      const c = Math.floor(r() * 6);
      if (c === 0) { const size = pick([1, 2, 4, 8]); x.truncate(size); y.truncate(size); }
      else if (c === 1) { const size = pick([1, 2, 4] as const); x.signExtend(size); y.signExtend(size); }
      else if (c === 2) { const size = pick([1, 2] as const); x.signExtendSubreg(size); y.signExtendSubreg(size); x.zext32(); y.zext32(); }
      else if (c === 3) { x.zext32(); y.zext32(); x.sync(); y.sync(); }
      else if (c === 4) { const v = next(); x.markKnown32(v); y.markKnown32(lo32(v)); x.sync(); y.sync(); }
      else { x.markUnbounded(); y.markUnbounded(); x.sync(); y.sync(); }
      add(x, y, `${what} cast ${c}`);
    } else {
      const v = r() < 0.5 ? next() : ra.varOff.value;
      assert.equal(ma.contains(v), ra.contains(v), `${what} contains ${v}`);
      assert.equal(ma.includes(mb), ra.includes(rb), `${what} includes`);
      assert.equal(ma.equals(mb), ra.equals(rb), `${what} equals`);
      assert.equal(ma.isExactConst(), ra.isExactConst(), `${what} isExactConst`);
      assert.equal(ma.isUnknown(), ra.isUnknown(), `${what} isUnknown`);
      assert.equal(ma.isEmpty(), ra.isEmpty(), `${what} isEmpty`);
      for (const w of [false, true]) {
        assert.equal(ma.isConstIn(w), ra.isConstIn(w));
        assert.equal(ma.constValue(w), ra.constValue(w));
      }
    }
  }
  // the walk reached both decided and undecided comparisons
  assert.ok(branches > 10000 && decided > 1000 && decided < branches - 1000, `${decided} of ${branches} branches decided`);
});

test('tnum operations on 32-bit halves equal the bigint tnum.c ones, bit for bit', () => {
  const r = rng(7777);
  const next = values(r);
  const tnum = (): RefTnum => {
    const k = r();
    if (k < 0.15) return RT.tnumConst(next());
    if (k < 0.25) return RT.tnumUnknown;
    if (k < 0.5) { const a = next(), b = next(); return RT.tnumRange(a < b ? a : b, a < b ? b : a); }
    const mask = next();
    return { value: next() & ~mask, mask };
  };
  const show = (t: RefTnum): string => `(${t.value}; ${t.mask})`;
  for (let k = 0; k < 30000; k++) {
    const a = tnum(), b = tnum();
    const what = `a=${show(a)} b=${show(b)}`;
    assert.deepEqual(T.tnumAdd(a, b), RT.tnumAdd(a, b), `add ${what}`);
    assert.deepEqual(T.tnumSub(a, b), RT.tnumSub(a, b), `sub ${what}`);
    assert.deepEqual(T.tnumAnd(a, b), RT.tnumAnd(a, b), `and ${what}`);
    assert.deepEqual(T.tnumOr(a, b), RT.tnumOr(a, b), `or ${what}`);
    assert.deepEqual(T.tnumXor(a, b), RT.tnumXor(a, b), `xor ${what}`);
    if (k % 4 === 0) assert.deepEqual(T.tnumMul(a, b), RT.tnumMul(a, b), `mul ${what}`);
    assert.deepEqual(T.tnumIntersect(a, b), RT.tnumIntersect(a, b), `intersect ${what}`);
    assert.deepEqual(T.tnumSubreg(a), RT.tnumSubreg(a), `subreg ${what}`);
    assert.deepEqual(T.tnumClearSubreg(a), RT.tnumClearSubreg(a), `clear subreg ${what}`);
    assert.deepEqual(T.tnumWithSubreg(a, b), RT.tnumWithSubreg(a, b), `with subreg ${what}`);
    const low = RT.tnumSubreg(b);
    assert.deepEqual(T.tnumWithLow(a, Number(low.value), Number(low.mask)), RT.tnumWithSubreg(a, low), `with low half ${what}`);
    assert.equal(T.tnumSubregIsConst(a), RT.tnumSubregIsConst(a), `subreg is const ${what}`);
    assert.equal(T.tnumIn(a, b), RT.tnumIn(a, b), `in ${what}`);
    assert.equal(T.tnumOverlap(a, b), RT.tnumOverlap(a, b), `overlap ${what}`);
    const v = r() < 0.5 ? next() : b.value;
    assert.equal(T.tnumContains(a, v), RT.tnumContains(a, v), `contains ${v} ${what}`);
    const lo = next(), hi = next();
    assert.deepEqual(T.tnumRange(lo < hi ? lo : hi, lo < hi ? hi : lo), RT.tnumRange(lo < hi ? lo : hi, lo < hi ? hi : lo), `range ${lo} ${hi}`);
  }
});
