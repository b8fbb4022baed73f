/**
 * Security (issue 14, part 6): an unprivileged program cannot leak a pointer
 * into a map through an atomic operation. It may spill a pointer to its
 * stack, but a BPF_ATOMIC | BPF_FETCH, an xchg or a cmpxchg of that slot
 * would give the pointer back as a number it can store into a map; Linux
 * refuses the atomic itself ("leaking pointer from stack off -8",
 * check_stack_read_fixed_off), and so must tsbpf. Root may (allow_ptr_leaks).
 * The programs are test/verifier-corpus/unpriv-atomics.txt, whose kernel
 * verdicts are recorded (and re-checked in CI) like every corpus case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from '../src/verifier/index.js';
import { loadCorpus, readVerdicts, verifierInput } from './support/verifier-cases.js';

const cases = new Map(loadCorpus().filter((c) => c.group === 'unpriv-atomics').map((c) => [c.name, c]));
const recorded = readVerdicts().cases;

for (const [name, how] of [
  ['atomic_leak_fetch_add_into_map', 'BPF_ATOMIC | BPF_FETCH (fetch_add)'],
  ['atomic_leak_fetch_or_then_reload', 'BPF_ATOMIC | BPF_FETCH (fetch_or), then a reload of the slot'],
  ['atomic_leak_xchg_into_map', 'xchg'],
  ['atomic_leak_cmpxchg_into_map', 'cmpxchg'],
  ['atomic_leak_add_no_fetch', 'an atomic add without fetch'],
] as const) {
  test(`an unprivileged program cannot leak a spilled pointer through ${how}`, () => {
    const c = cases.get(name);
    assert.ok(c, `corpus case ${name}`);
    assert.equal(c.privileged, false);
    assert.equal(recorded[name]?.verdict, 'reject', 'the kernel refuses it');
    const r = verify(verifierInput(c));
    assert.equal(r.ok, false, 'tsbpf must refuse it');
    assert.equal(r.error?.errno, 'EACCES');
    assert.match(r.error?.kernelMessage ?? '', /^leaking pointer from stack off -8$/);
    // the same program is fine for root, as in Linux
    assert.equal(verify(verifierInput(c, true)).ok, true, 'root may fetch its own spilled pointer');
  });
}

test('an unprivileged atomic may not store a pointer either (xchg value, cmpxchg R0)', () => {
  for (const [name, msg] of [['atomic_leak_xchg_stores_pointer', /^R1 leaks addr into mem$/], ['atomic_leak_cmpxchg_r0_pointer', /^R0 leaks addr into mem$/]] as const) {
    const r = verify(verifierInput(cases.get(name)!));
    assert.equal(recorded[name]?.verdict, 'reject');
    assert.equal(r.ok, false, name);
    assert.match(r.error?.kernelMessage ?? '', msg);
  }
});

test('unprivileged atomics on scalar stack slots stay allowed', () => {
  for (const name of ['atomic_fetch_add_scalar_slot', 'atomic_xchg_scalar_into_map']) {
    assert.equal(recorded[name]?.verdict, 'accept');
    assert.equal(verify(verifierInput(cases.get(name)!)).ok, true, name);
  }
});
