/**
 * Copy-on-write registers, stack arrays and stack slots (src/verifier/state.ts):
 * a cloned state shares its registers, its stack array and its slots with the
 * state it was cloned from, and every write goes through Frame.reg or
 * Frame.slot, which copy a shared register or slot first (a shared register is
 * frozen, so a write that skips Frame.reg throws instead). A write on either
 * side after a clone must never show on the other (a checkpoint that
 * changed under a later path would prune unsoundly), and states_equal may
 * skip a slot both states share only when that decides nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifierState, Frame, STACK_MISC, STACK_SPILL, STACK_ZERO, cowGuard, shareReg } from '../src/verifier/state.js';
import { Reg } from '../src/verifier/types.js';
import { statesEqual, type PruneContext } from '../src/verifier/prune.js';

function stateWithSpill(): VerifierState {
  const st = new VerifierState();
  st.frames.push(new Frame(0, -1, 0));
  const s = st.cur.slot(0);
  s.t.fill(STACK_SPILL);
  s.spilled = Reg.known(7n);
  st.cur.slot(1).t.fill(STACK_MISC);
  return st;
}

/** An unknown scalar with an id: a copy of another register (or of several). */
function linked(id: number): Reg {
  const r = Reg.unknown();
  r.id = id;
  return r;
}

// (the verifier freezes shared registers only when asked: the tests ask)
cowGuard.freeze = true;

const ctx: PruneContext = { liveMask: () => 0x7ff, allowUninitStack: false };

test('a clone shares its stack slots until one side writes', () => {
  const a = stateWithSpill();
  const b = a.clone();
  assert.equal(b.cur.stack[0], a.cur.stack[0], 'unwritten slots are shared');
  const w = b.cur.slot(1);
  w.t[0] = STACK_ZERO;
  assert.notEqual(b.cur.stack[1], a.cur.stack[1], 'the written slot is the clone\'s own');
  assert.equal(a.cur.stack[1]!.t[0], STACK_MISC, 'the original does not see the clone\'s write');
  // The original writing a slot it shares leaves the clone alone too.
  a.cur.slot(0).spilled = Reg.known(9n);
  assert.equal(b.cur.stack[0]!.spilled!.s.varOff.value, 7n);
});

test('allRegs gives a spilled register that is the frame\'s own to change', () => {
  const a = stateWithSpill();
  a.cur.stack[0]!.spilled!.id = 5;
  const b = a.clone();
  const got = b.allRegs((r) => r.id === 5);
  assert.equal(got.length, 1);
  got[0]!.s = Reg.known(1n).s;
  assert.equal(a.cur.stack[0]!.spilled!.s.varOff.value, 7n, 'the original spill is unchanged');
  assert.equal(b.cur.stack[0]!.spilled!.s.varOff.value, 1n);
});

test('states_equal on a shared slot still pairs the ids of its spilled register', () => {
  // old: r1 and the spill are copies of one scalar (id 5); cur: the spill still has id 5 (the
  // slot is shared), but r1 now has id 6. Pairing r1's 5 with 6 and the spill's 5 with 5 is
  // inconsistent (check_ids): skipping the shared slot would wrongly call the states equal.
  const old = stateWithSpill();
  old.cur.stack[0]!.spilled!.id = 5;
  old.cur.regs[1] = linked(5);
  const cur = old.clone();
  assert.ok(statesEqual(old, cur, ctx), 'a state equals its clone');
  cur.cur.reg(1).id = 6;
  assert.equal(old.cur.stack[0], cur.cur.stack[0], 'the slot is shared');
  assert.equal(statesEqual(old, cur, ctx), false);
  // Without the spill's id, r1's new id alone is a consistent renaming.
  cur.cur.slot(0).ownSpilled()!.id = 0;
  old.cur.slot(0).ownSpilled()!.id = 0;
  assert.ok(statesEqual(old, cur, ctx));
});

test('a spilled register shared with a register (a spill, a fill) changes on neither side through the other', () => {
  // stack.ts spills and fills by sharing one register object between the slot and the register
  const a = stateWithSpill();
  const sp = a.cur.stack[0]!.spilled!;
  shareReg(sp);
  a.cur.regs[3] = sp;
  assert.throws(() => { a.cur.stack[0]!.spilled!.id = 4; }, TypeError, 'a write that skips ownSpilled fails loudly');
  const r = a.cur.reg(3);
  r.s.markKnown(8n);
  assert.equal(a.cur.stack[0]!.spilled!.s.varOff.value, 7n, 'the slot does not see the register\'s write');
  a.cur.regs[3] = sp;
  const s = a.cur.slot(0).ownSpilled()!;
  s.id = 6;
  assert.notEqual(s, sp);
  assert.equal(a.cur.regs[3]!.id, 0, 'the register does not see the slot\'s write');
  // a slot copied for a clone shares its spilled register too, and allRegs copies it before a change
  const b = a.clone();
  b.cur.slot(0);
  assert.equal(b.cur.stack[0]!.spilled, s, 'the copied slot shares the spilled register');
  const got = b.allRegs((x) => x.id === 6);
  assert.equal(got.length, 1);
  got[0]!.id = 7;
  assert.equal(a.cur.stack[0]!.spilled!.id, 6, 'the original spill is unchanged');
});

test('a clone shares its registers, frozen, until one side writes through Frame.reg', () => {
  const a = stateWithSpill();
  a.cur.regs[2] = Reg.known(3n);
  const b = a.clone();
  assert.equal(b.cur.regs[2], a.cur.regs[2], 'unwritten registers are shared');
  assert.ok(a.cur.regs[2]!.shared && Object.isFrozen(a.cur.regs[2]) && Object.isFrozen(a.cur.regs[2]!.s));
  assert.throws(() => { a.cur.regs[2]!.id = 4; }, TypeError, 'a write that skips Frame.reg fails loudly');
  assert.throws(() => { a.cur.regs[2]!.s.umin = 1n; }, TypeError, 'so does one into its scalar');
  const w = b.cur.reg(2);
  w.id = 4;
  w.s.markKnown(5n);
  assert.notEqual(b.cur.regs[2], a.cur.regs[2], 'the written register is the clone\'s own');
  assert.equal(b.cur.reg(2), w, 'and stays so: a second write copies nothing');
  assert.equal(a.cur.regs[2]!.id, 0);
  assert.equal(a.cur.regs[2]!.s.varOff.value, 3n, 'the original does not see the clone\'s write');
  // The original writing a register it shares leaves the clone alone too.
  a.cur.reg(3);
  a.cur.regs[1] = Reg.known(1n);
  assert.equal(b.cur.regs[1]!.type, 'not_init');
});

test('allRegs gives registers that are the frame\'s own to change', () => {
  const a = stateWithSpill();
  a.cur.regs[4] = linked(9);
  const b = a.clone();
  const got = b.allRegs((r) => r.id === 9);
  assert.equal(got.length, 1);
  got[0]!.s = Reg.known(2n).s;
  assert.equal(b.cur.regs[4], got[0]);
  assert.ok(a.cur.regs[4]!.s.isUnknown(), 'the original register is unchanged');
});

test('a clone shares its stack array until one side writes a slot', () => {
  const a = stateWithSpill();
  const b = a.clone();
  assert.equal(b.cur.stack, a.cur.stack, 'the array is shared');
  b.cur.slot(5).t.fill(STACK_MISC);
  assert.notEqual(b.cur.stack, a.cur.stack, 'a write gives the writer its own array');
  assert.equal(a.cur.stack.length, 2, 'the original does not see the new slot');
  assert.equal(b.cur.stack[0], a.cur.stack[0], 'the slots not written are still shared');
  a.cur.slot(0).t[0] = STACK_MISC;
  assert.equal(b.cur.stack[0]!.t[0], STACK_SPILL, 'a slot of the copied array is still copied before a write');
});

test('states_equal on a shared register still pairs its ids', () => {
  // old: r1 and r2 are copies of one scalar (id 5); cur shares r1 (id 5) but r2 now has id 6:
  // pairing 5 with 5 and 5 with 6 is inconsistent, even though r1 is the very same object.
  const old = stateWithSpill();
  old.cur.regs[1] = linked(5);
  old.cur.regs[2] = linked(5);
  const cur = old.clone();
  assert.ok(statesEqual(old, cur, ctx), 'a state equals its clone');
  cur.cur.reg(2).id = 6;
  assert.equal(old.cur.regs[1], cur.cur.regs[1], 'r1 is shared');
  assert.equal(statesEqual(old, cur, ctx), false);
  assert.equal(statesEqual(old, cur, ctx, true), false, 'in exact mode too');
});
