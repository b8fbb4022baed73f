/**
 * Loops' strongly connected components (src/verifier/scc.ts, the kernel's compute_scc) and the
 * visits that decide when a loop's states are compared RANGE_WITHIN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import { successorTable } from '../src/isa/control-flow.js';
import { SccVisits, computeScc } from '../src/verifier/scc.js';
import { Frame, VerifierState } from '../src/verifier/state.js';

const none = (): boolean => false;

/** a counted loop: instructions 1 and 2 form it */
const COUNTED_LOOP = `
    r1 = 0
  loop:
    r1 += 1
    if r1 < 10 goto loop
    r0 = 0
    exit
  `;

test('compute_scc: a loop body shares one number, straight code and a lone instruction get 0', () => {
  const insns = assemble(COUNTED_LOOP);
  const scc = computeScc(insns, successorTable(insns), none);
  assert.equal(scc[0], 0);
  assert.ok(scc[1]! > 0);
  assert.equal(scc[2], scc[1]);
  assert.equal(scc[3], 0);
  assert.equal(scc[4], 0);
});

test('compute_scc: a jump to itself is a loop, and so is a call that calls a callback again', () => {
  const insns = assemble(`
    if r1 == 0 goto +1
    goto -1
    r0 = 0
    exit
  `);
  const scc = computeScc(insns, successorTable(insns), (i) => i === 2);
  assert.equal(scc[0], 0);
  assert.ok(scc[1]! > 0);
  assert.ok(scc[2]! > 0 && scc[2] !== scc[1]);
  assert.equal(scc[3], 0);
});

test('SCC visits: backedges make the loop incomplete until its entry state finishes', () => {
  const insns = assemble(COUNTED_LOOP);
  const v = new SccVisits(computeScc(insns, successorTable(insns), none));
  const st = new VerifierState([new Frame(0, -1, 0)]);
  assert.equal(v.callchain(st, 0), undefined);
  const key = v.callchain(st, 1);
  assert.ok(key !== undefined);
  const entry = {}, other = {};
  v.enter(entry, st, 1);
  v.enter(other, st, 2);
  assert.equal(v.incomplete(st, 2), false);
  v.addBackedge(st, 2);
  assert.equal(v.incomplete(st, 1), true);
  v.exit(other, st, 2);
  assert.equal(v.incomplete(st, 1), true, 'only the entry state ends the visit');
  v.exit(entry, st, 1);
  assert.equal(v.incomplete(st, 1), false);
});
