/**
 * The value domain against concrete arithmetic: tnums (kernel/bpf/tnum.c)
 * and scalar bounds (adjust_scalar_min_max_vals, reg_bounds_sync,
 * regs_refine_cond_op). Unit cases with the kernel's results, and property
 * tests: every concrete value inside the abstract inputs gives a result
 * inside the abstract output, for every operation and both branch sides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../src/verifier/tnum.js';
import { Scalar, S64_MIN, S64_MAX } from '../src/verifier/scalar.js';
import { scalarAlu } from '../src/verifier/scalar-alu.js';
import { scalarBranchTaken, branchScalars, negateCond } from '../src/verifier/scalar-branch.js';
import { regStr } from '../src/verifier/log.js';
import { Reg } from '../src/verifier/types.js';
import * as op from '../src/isa/opcodes.js';

const U64 = (1n << 64n) - 1n;

/** xorshift64*: a deterministic stream, so a failure reproduces. */
function rng(seed: bigint): () => bigint {
  let s = seed;
  return () => {
    s ^= s >> 12n; s ^= (s << 25n) & U64; s ^= s >> 27n;
    return (s * 2685821657736338717n) & U64;
  };
}
const next = rng(0x9e3779b97f4a7c15n);
/** Values that exercise edges: small, negative, around 2^31, 2^32, 2^63. */
function value(): bigint {
  const r = next();
  switch (Number(r & 7n)) {
    case 0: return r >> 58n;
    case 1: return BigInt.asUintN(64, -(r >> 58n));
    case 2: return (1n << (r >> 58n)) + ((r >> 20n) & 3n) - 2n & U64;
    case 3: return (0x7fffffffn + ((r >> 8n) & 7n) - 3n) & U64;
    case 4: return (0xffffffffn + ((r >> 8n) & 7n) - 3n) & U64;
    case 5: return r & 0xffffn;
    default: return r;
  }
}
function member(t: T.Tnum): bigint {
  return (t.value | (next() & t.mask)) & U64;
}
function randomTnum(): T.Tnum {
  const v = value();
  const m = next() & next() & next();
  return { value: v & ~m & U64, mask: m };
}

test('tnum: the kernel examples', () => {
  assert.deepEqual(T.tnumRange(0n, 255n), { value: 0n, mask: 0xffn });
  assert.deepEqual(T.tnumRange(4n, 7n), { value: 4n, mask: 3n });
  assert.deepEqual(T.tnumRange(0n, U64), T.tnumUnknown);
  assert.deepEqual(T.tnumAdd(T.tnumConst(1n), T.tnumConst(2n)), T.tnumConst(3n));
  // x in {0,1} + 1 is in {1,2}: bits 0 and 1 unknown.
  assert.deepEqual(T.tnumAdd({ value: 0n, mask: 1n }, T.tnumConst(1n)), { value: 0n, mask: 3n });
  assert.deepEqual(T.tnumAnd(T.tnumUnknown, T.tnumConst(0xf0n)), { value: 0n, mask: 0xf0n });
  assert.deepEqual(T.tnumOr({ value: 0n, mask: 0xffn }, T.tnumConst(0x100n)), { value: 0x100n, mask: 0xffn });
  assert.deepEqual(T.tnumLshift({ value: 1n, mask: 2n }, 4), { value: 0x10n, mask: 0x20n });
  assert.deepEqual(T.tnumArshift({ value: 1n << 63n, mask: 0n }, 60, 64), { value: U64 ^ 7n, mask: 0n });
  assert.deepEqual(T.tnumArshift({ value: 0x80000000n, mask: 0n }, 4, 32), { value: 0xf8000000n, mask: 0n });
  assert.deepEqual(T.tnumMul(T.tnumConst(3n), T.tnumConst(5n)), T.tnumConst(15n));
  assert.equal(T.tnumStr({ value: 0n, mask: 0xffn }), '(0x0; 0xff)');
  assert.ok(T.tnumIn(T.tnumRange(0n, 255n), T.tnumConst(17n)));
  assert.ok(!T.tnumIn(T.tnumConst(17n), T.tnumRange(0n, 255n)));
  assert.deepEqual(T.tnumSubreg({ value: 0x1_0000_0001n, mask: 0xf_0000_0000n }), { value: 1n, mask: 0n });
  assert.deepEqual(T.tnumIntersect({ value: 0n, mask: 0xffn }, { value: 0x10n, mask: 0x0fn }), { value: 0x10n, mask: 0x0fn });
});

test('tnum: every operation contains the concrete results (property)', () => {
  const ops: Array<[string, (a: T.Tnum, b: T.Tnum) => T.Tnum, (x: bigint, y: bigint) => bigint]> = [
    ['add', T.tnumAdd, (x, y) => (x + y) & U64],
    ['sub', T.tnumSub, (x, y) => (x - y) & U64],
    ['mul', T.tnumMul, (x, y) => (x * y) & U64],
    ['and', T.tnumAnd, (x, y) => x & y],
    ['or', T.tnumOr, (x, y) => x | y],
    ['xor', T.tnumXor, (x, y) => x ^ y],
  ];
  for (let n = 0; n < 3000; n++) {
    const a = randomTnum(), b = randomTnum();
    for (const [name, abs, conc] of ops) {
      const x = member(a), y = member(b);
      const r = abs(a, b);
      assert.ok(T.tnumContains(r, conc(x, y)), `${name}: ${x} in ${T.tnumStr(a)}, ${y} in ${T.tnumStr(b)} -> ${conc(x, y)} not in ${T.tnumStr(r)}`);
    }
    const s = Number(next() % 64n), x = member(a);
    assert.ok(T.tnumContains(T.tnumLshift(a, s), (x << BigInt(s)) & U64));
    assert.ok(T.tnumContains(T.tnumRshift(a, s), x >> BigInt(s)));
    assert.ok(T.tnumContains(T.tnumArshift(a, s, 64), BigInt.asUintN(64, BigInt.asIntN(64, x) >> BigInt(s))));
    const s32 = s & 31;
    assert.ok(T.tnumContains(T.tnumArshift(T.tnumSubreg(a), s32, 32), BigInt.asUintN(32, BigInt.asIntN(32, x & 0xffffffffn) >> BigInt(s32))));
    const lo = value(), hi = value();
    const [mn, mx] = lo <= hi ? [lo, hi] : [hi, lo];
    const inRange = mn + (next() % (mx - mn + 1n));
    assert.ok(T.tnumContains(T.tnumRange(mn, mx), inRange));
  }
});

// --- scalars ---

/** A scalar covering [lo, hi] (unsigned), through the same constructors the verifier uses. */
function randomScalar(): { s: Scalar; sample: () => bigint } {
  const kind = Number(next() % 4n);
  if (kind === 0) {
    const v = value();
    return { s: Scalar.known(v), sample: () => v };
  }
  if (kind === 1) {
    // a signed range around zero: [-k, k]
    const k = next() % 1000n;
    const s = Scalar.unknown();
    s.smin = -k; s.smax = k; s.sync();
    return { s, sample: () => BigInt.asUintN(64, -k + (next() % (2n * k + 1n))) };
  }
  if (kind === 2) {
    const t = randomTnum();
    const s = new Scalar(t);
    s.sync();
    return { s, sample: () => member(t) };
  }
  const a = value(), b = value();
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  return { s: Scalar.urange(lo, hi), sample: () => lo + (next() % (hi - lo + 1n)) };
}

function concreteAlu(o: number, x: bigint, y: bigint, alu32: boolean): bigint {
  const bits = alu32 ? 32 : 64;
  const m = alu32 ? 0xffffffffn : U64;
  const a = x & m, b = y & m;
  let r: bigint;
  switch (o) {
    case op.BPF_ADD: r = a + b; break;
    case op.BPF_SUB: r = a - b; break;
    case op.BPF_MUL: r = a * b; break;
    case op.BPF_DIV: r = b === 0n ? 0n : a / b; break;
    case op.BPF_MOD: r = b === 0n ? a : a % b; break;
    case op.BPF_AND: r = a & b; break;
    case op.BPF_OR: r = a | b; break;
    case op.BPF_XOR: r = a ^ b; break;
    case op.BPF_LSH: r = a << (b & BigInt(bits - 1)); break;
    case op.BPF_RSH: r = a >> (b & BigInt(bits - 1)); break;
    case op.BPF_ARSH: r = BigInt.asIntN(bits, a) >> (b & BigInt(bits - 1)); break;
    default: throw new Error('op');
  }
  return BigInt.asUintN(bits, r);
}

test('scalar: the kernel bounds for common patterns', () => {
  const byte = Scalar.urange(0n, 255n);
  assert.equal(regStr(Reg.scalar(byte), 0, { name: () => undefined, keySize: () => 0, valueSize: () => 0 }),
    'scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
  const x = Scalar.unknown();
  scalarAlu(op.BPF_AND, x, Scalar.known(3n), false);
  assert.equal(x.umax, 3n);
  assert.equal(x.smin, 0n);
  // w = w (zero extension) of an unknown value: [0, 2^32-1]
  const y = Scalar.unknown();
  y.zext32(); y.sync();
  assert.equal(y.umax, 0xffffffffn);
  assert.equal(y.smin, 0n);
  // <<32 then s>>32 sign-extends the low half
  const z = Scalar.urange(0n, 0xffn);
  scalarAlu(op.BPF_LSH, z, Scalar.known(32n), false);
  scalarAlu(op.BPF_ARSH, z, Scalar.known(32n), false);
  assert.equal(z.smin, 0n);
  assert.equal(z.smax, 0xffn);
  // unknown + 1 stays unknown in all views
  const u = Scalar.unknown();
  scalarAlu(op.BPF_ADD, u, Scalar.known(1n), false);
  assert.ok(u.isUnknown());
  // div is not tracked: unknown
  const d = Scalar.known(10n);
  scalarAlu(op.BPF_DIV, d, Scalar.known(2n), false);
  assert.ok(d.isUnknown());
});

test('scalar: ALU results contain the concrete results, 64- and 32-bit (property)', () => {
  const ops = [op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_DIV, op.BPF_MOD, op.BPF_AND, op.BPF_OR, op.BPF_XOR, op.BPF_LSH, op.BPF_RSH, op.BPF_ARSH];
  for (let n = 0; n < 1500; n++) {
    const a = randomScalar();
    for (const o of ops) {
      const shift = o === op.BPF_LSH || o === op.BPF_RSH || o === op.BPF_ARSH;
      for (const alu32 of [false, true]) {
        const b = shift ? (() => { const k = next() % (alu32 ? 32n : 64n); return { s: Scalar.known(k), sample: () => k }; })() : randomScalar();
        const x = a.sample(), y = b.sample();
        assert.ok(a.s.contains(x) && b.s.contains(y), 'sample outside its own scalar');
        const r = a.s.clone();
        // The verifier hands ALU32 a source already truncated to 32 bits only for K; X sources are full registers.
        scalarAlu(o, r, b.s, alu32);
        const want = concreteAlu(o, x, y, alu32);
        assert.ok(r.contains(want), `op ${o.toString(16)} alu32=${alu32}: ${x} op ${y} = ${want} escapes smin=${r.smin} smax=${r.smax} umin=${r.umin} umax=${r.umax} s32=[${r.s32min},${r.s32max}] u32=[${r.u32min},${r.u32max}] ${T.tnumStr(r.varOff)}`);
      }
    }
  }
});

function holds(o: number, x: bigint, y: bigint, jmp32: boolean): boolean {
  const bits = jmp32 ? 32 : 64;
  const ux = BigInt.asUintN(bits, x), uy = BigInt.asUintN(bits, y);
  const sx = BigInt.asIntN(bits, x), sy = BigInt.asIntN(bits, y);
  switch (o) {
    case op.BPF_JEQ: return ux === uy;
    case op.BPF_JNE: return ux !== uy;
    case op.BPF_JGT: return ux > uy;
    case op.BPF_JGE: return ux >= uy;
    case op.BPF_JLT: return ux < uy;
    case op.BPF_JLE: return ux <= uy;
    case op.BPF_JSGT: return sx > sy;
    case op.BPF_JSGE: return sx >= sy;
    case op.BPF_JSLT: return sx < sy;
    case op.BPF_JSLE: return sx <= sy;
    case op.BPF_JSET: return (ux & uy) !== 0n;
  }
  throw new Error('cond');
}

test('scalar: both sides of every comparison keep the values that reach them (property)', () => {
  const conds = [op.BPF_JEQ, op.BPF_JNE, op.BPF_JGT, op.BPF_JGE, op.BPF_JLT, op.BPF_JLE, op.BPF_JSGT, op.BPF_JSGE, op.BPF_JSLT, op.BPF_JSLE, op.BPF_JSET];
  for (let n = 0; n < 1500; n++) {
    const a = randomScalar();
    const b = next() & 1n ? randomScalar() : (() => { const k = value(); return { s: Scalar.known(k), sample: () => k }; })();
    for (const c of conds) {
      for (const jmp32 of [false, true]) {
        const x = a.sample(), y = b.sample();
        const h = holds(c, x, y, jmp32);
        const taken = scalarBranchTaken(a.s, b.s, c, jmp32);
        if (taken === 1) assert.ok(h, `cond ${c.toString(16)} jmp32=${jmp32} said always, but ${x} vs ${y} fails`);
        if (taken === 0) assert.ok(!h, `cond ${c.toString(16)} jmp32=${jmp32} said never, but ${x} vs ${y} holds`);
        const br = branchScalars(a.s, b.s, c, jmp32);
        const side = h ? br.t : br.f;
        assert.ok(side, `cond ${c.toString(16)} jmp32=${jmp32}: the ${h ? 'taken' : 'fall-through'} side was dropped but ${x} vs ${y} reaches it`);
        assert.ok(side![0].contains(x) && side![1].contains(y), `cond ${c.toString(16)} jmp32=${jmp32} ${h}: ${x} vs ${y} lost by refinement`);
        assert.equal(negateCond(negateCond(c)), c);
      }
    }
  }
});

test('scalar: sign extension and truncation', () => {
  const s = Scalar.urange(0n, 0xffn);
  s.signExtend(1);
  assert.equal(s.smin, -128n);
  assert.equal(s.smax, 127n);
  const t = Scalar.known(0x1_2345_6789n);
  t.truncate(4);
  assert.ok(t.isConst() && t.varOff.value === 0x2345_6789n);
  const u = Scalar.unknown();
  u.truncate(2);
  assert.equal(u.umax, 0xffffn);
  assert.equal(S64_MIN, -(1n << 63n));
  assert.equal(S64_MAX, (1n << 63n) - 1n);
});
