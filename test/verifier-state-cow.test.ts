/**
 * Copy-on-write stack slots (src/verifier/state.ts): a cloned state shares
 * its stack slots with the state it was cloned from, and every write goes
 * through Frame.slot, which copies a shared slot first. A write on either
 * side after a clone must never show on the other (a checkpoint that
 * changed under a later path would prune unsoundly), and states_equal may
 * skip a slot both states share only when that decides nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifierState, Frame, STACK_MISC, STACK_SPILL, STACK_ZERO } from '../src/verifier/state.js';
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
  old.cur.regs[1] = Reg.unknown();
  old.cur.regs[1]!.id = 5;
  const cur = old.clone();
  assert.ok(statesEqual(old, cur, ctx), 'a state equals its clone');
  cur.cur.regs[1]!.id = 6;
  assert.equal(old.cur.stack[0], cur.cur.stack[0], 'the slot is shared');
  assert.equal(statesEqual(old, cur, ctx), false);
  // Without the spill's id, r1's new id alone is a consistent renaming.
  cur.cur.slot(0).spilled!.id = 0;
  old.cur.slot(0).spilled!.id = 0;
  assert.ok(statesEqual(old, cur, ctx));
});
