/**
 * Scalars the verifier builds once and hands out many times
 * (src/verifier/alu.ts immOperand: the operand of an ALU or conditional jump
 * with an immediate; src/verifier/ldst.ts loadedScalar: what a load of
 * unknown bytes yields). A shared one must read as the kernel reads the
 * immediate, and must never carry a change from one instruction to the
 * next: the immediate's register is frozen, a load's scalar is a fresh copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { immOperand } from '../src/verifier/alu.js';
import { loadedScalar } from '../src/verifier/ldst.js';
import { Scalar } from '../src/verifier/scalar.js';

test('immOperand: the immediate zero-extended for 32-bit ops, sign-extended for 64-bit ones', () => {
  const w = immOperand(-1, true), r = immOperand(-1, false);
  assert.equal(w.type, 'scalar');
  assert.ok(w.s.isExactConst() && r.s.isExactConst());
  assert.equal(w.s.varOff.value, 0xffffffffn);
  assert.equal(w.s.smin, 0xffffffffn);
  assert.equal(r.s.varOff.value, 0xffffffffffffffffn);
  assert.equal(r.s.smin, -1n);
  assert.equal(immOperand(7, false).s.umax, 7n);
  assert.equal(immOperand(-0x80000000, false).s.smin, -0x80000000n);
  assert.equal(immOperand(-0x80000000, true).s.umin, 0x80000000n);
});

test('immOperand: one frozen register per value, a write into it throws', () => {
  const a = immOperand(42, false);
  assert.equal(immOperand(42, false), a);
  assert.notEqual(immOperand(42, true), a);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.s) && Object.isFrozen(a.s.varOff));
  assert.throws(() => { a.s.umax = 0n; }, TypeError);
  assert.throws(() => { a.s.markKnown(1n); }, TypeError);
  assert.throws(() => { a.off = 8; }, TypeError);
  assert.equal(a.s.umax, 42n);
  // a clone (what a destination register becomes) is writable
  const c = a.clone();
  c.s.markKnown(1n);
  assert.equal(c.s.umax, 1n);
  assert.equal(immOperand(42, false).s.umax, 42n);
});

test('immOperand: past its bound the cache starts afresh and still answers right', () => {
  for (let k = 0; k < 5000; k++) assert.equal(immOperand(k * 3 - 7000, false).s.smin, BigInt(k * 3 - 7000));
  assert.equal(immOperand(5, true).s.u32max, 5);
});

test('loadedScalar: the range of a load of each size, a fresh scalar every time', () => {
  const want = (lo: bigint, hi: bigint): Scalar => Scalar.urange(lo, hi);
  for (const [size, hi] of [[1, 0xffn], [2, 0xffffn], [4, 0xffffffffn]] as const) {
    const a = loadedScalar(size, false);
    assert.ok(a.s.equals(want(0n, hi)), `zero-extended u${size * 8}`);
    const sx = Scalar.unknown();
    sx.signExtend(size);
    assert.ok(loadedScalar(size, true).s.equals(sx), `sign-extended s${size * 8}`);
    // a change to one load's scalar is not seen by the next load
    a.s.markKnown(3n);
    const b = loadedScalar(size, false);
    assert.notEqual(b.s, a.s);
    assert.ok(b.s.equals(want(0n, hi)));
  }
  assert.ok(loadedScalar(8, false).s.isUnknown());
  assert.ok(loadedScalar(8, true).s.isUnknown());
});
