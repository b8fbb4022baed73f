/**
 * State pruning over dynptr slots (src/verifier/prune.ts, the kernel's stacksafe STACK_DYNPTR
 * case): two states' dynptrs match only with the same type and slot, and the references they
 * hold in correspondence with the rest of the state's (check_ids); slices compare by the
 * dynptr they came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifierState, Frame, STACK_DYNPTR } from '../src/verifier/state.js';
import { Reg, type DynptrType } from '../src/verifier/types.js';
import { statesEqual, type PruneContext } from '../src/verifier/prune.js';

const ctx: PruneContext = { liveMask: () => 0x7ff, allowUninitStack: true };

/** A state with a dynptr in slots 1 (first) and 0, holding `ref` (pushed on the state's references when not 0). */
function withDynptr(type: DynptrType, ref: number, id = 3): VerifierState {
  const st = new VerifierState();
  st.frames.push(new Frame(0, -1, 0));
  for (const [spi, first] of [[1, true], [0, false]] as const) {
    const s = st.cur.slot(spi);
    s.t.fill(STACK_DYNPTR);
    s.dynptr = { type, first, id, refObjId: ref };
  }
  if (ref) st.refs.push({ id: ref, insn: 0 });
  return st;
}

test('dynptr slots match with the same type and slot, whatever the ids', () => {
  assert.ok(statesEqual(withDynptr('local', 0), withDynptr('local', 0, 9), ctx), 'the slice id alone does not count');
  assert.equal(statesEqual(withDynptr('local', 0), withDynptr('skb', 0), ctx), false, 'another type');
  const swapped = withDynptr('local', 0);
  swapped.cur.stack[1]!.dynptr!.first = false;
  swapped.cur.stack[0]!.dynptr!.first = true;
  assert.equal(statesEqual(withDynptr('local', 0), swapped, ctx), false, 'another first slot');
});

test('a ringbuf dynptr\'s reference must correspond to the same reference elsewhere in the state', () => {
  assert.ok(statesEqual(withDynptr('ringbuf', 2), withDynptr('ringbuf', 7), ctx), 'a consistent renaming');
  // old: r6 is a slice holding the dynptr's reference; cur: r6 holds another one
  const old = withDynptr('ringbuf', 2), cur = withDynptr('ringbuf', 7);
  old.refs.push({ id: 4, insn: 0 });
  cur.refs.push({ id: 8, insn: 0 });
  old.cur.regs[6] = Reg.ptr('mem', { memSize: 8, refObjId: 2, dynptrId: 3 });
  cur.cur.regs[6] = Reg.ptr('mem', { memSize: 8, refObjId: 8, dynptrId: 3 });
  assert.equal(statesEqual(old, cur, ctx), false, 'the slice\'s reference is not the dynptr\'s in cur');
  cur.cur.regs[6]!.refObjId = 7;
  assert.ok(statesEqual(old, cur, ctx));
  cur.cur.regs[6]!.dynptrId = 5;
  assert.equal(statesEqual(old, cur, ctx), false, 'a slice of another dynptr');
});

test('a dynptr slot is not contained in a slot of plain data', () => {
  const plain = new VerifierState();
  plain.frames.push(new Frame(0, -1, 0));
  assert.equal(statesEqual(withDynptr('local', 0), plain, ctx), false);
});
