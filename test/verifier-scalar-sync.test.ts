/**
 * Scalar.sync() takes a number-based route for scalars whose 64-bit views lie
 * in [0, 2^32) (src/verifier/scalar.ts, syncSmall). It must give exactly what
 * the bigint reconciliation (syncReference, the kernel's reg_bounds_sync step
 * by step) gives, for consistent and for contradictory (empty) inputs alike:
 * the bounds are printed in the log and decide which branches are feasible.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scalar, S32_MIN, S32_MAX } from '../src/verifier/scalar.js';
import { scalarAlu } from '../src/verifier/scalar-alu.js';
import * as op from '../src/isa/opcodes.js';
import { rng } from './support/random.js';

const U32_EDGES = [0, 1, 2, 7, 8, 255, 256, 0xffff, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

function fields(s: Scalar): string {
  return [s.varOff.value, s.varOff.mask, s.umin, s.umax, s.smin, s.smax, s.u32min, s.u32max, s.s32min, s.s32max].join(',');
}

test('sync(): the number route equals the bigint reconciliation on small scalars', () => {
  const r = rng(20261122);
  const u32n = (): number => (r() < 0.4 ? U32_EDGES[Math.floor(r() * U32_EDGES.length)]! : Math.floor(r() * 2 ** (1 + Math.floor(r() * 32))));
  const u32 = (): bigint => BigInt(u32n());
  const s32 = (): number => u32n() | 0;
  const pair = <T extends number | bigint>(f: () => T): [T, T] => {
    const a = f(), b = f();
    // Mostly ordered ranges, sometimes contradictory ones (as a refined branch can leave them).
    return r() < 0.85 ? (a <= b ? [a, b] : [b, a]) : [a, b];
  };
  let small = 0;
  for (let k = 0; k < 20000; k++) {
    const mask = u32();
    const value = u32() & ~mask;
    const [umin, umax] = pair(u32);
    const [smin, smax] = pair(u32);
    const [u32min, u32max] = pair(u32n);
    const [s32min, s32max] = r() < 0.5 ? pair(s32) : [S32_MIN, S32_MAX];
    const make = (): Scalar => new Scalar({ value, mask }, smin, smax, umin, umax, s32min, s32max, u32min, u32max);
    const a = make(), b = make();
    a.sync();
    b.syncReference();
    assert.equal(fields(a), fields(b), `input ${fields(make())}`);
    if (mask !== 0n) small++;
  }
  assert.ok(small > 10000);
});

test('sync(): ALU results on small operands match the bigint route', () => {
  const r = rng(7);
  const ops = [op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_AND, op.BPF_OR, op.BPF_XOR, op.BPF_LSH, op.BPF_RSH, op.BPF_ARSH];
  for (let k = 0; k < 5000; k++) {
    const lo = BigInt(Math.floor(r() * 0x10000)), hi = lo + BigInt(Math.floor(r() * 0x10000));
    const o = ops[Math.floor(r() * ops.length)]!;
    const alu32 = r() < 0.5;
    const src = o === op.BPF_LSH || o === op.BPF_RSH || o === op.BPF_ARSH ? Scalar.known(BigInt(Math.floor(r() * 32))) : Scalar.urange(0n, BigInt(Math.floor(r() * 300)));
    const a = Scalar.urange(lo, hi);
    scalarAlu(o, a, src, alu32);
    // Re-running either route on the result is a fixpoint of both.
    const b = a.clone(), c = a.clone();
    b.sync();
    c.syncReference();
    assert.equal(fields(b), fields(c));
    assert.equal(fields(b), fields(a));
  }
});
