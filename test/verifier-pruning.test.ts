/**
 * State pruning beside Linux's (issue 14, part 7): the cases of
 * test/verifier-corpus/pruning.txt reach `join:` on two paths, and the
 * second path is pruned there exactly when what differs between the two
 * states cannot matter from there on. The kernel's verdict on every case is
 * recorded (and re-checked in CI) like every corpus case; here tsbpf must
 * give it, and, where the kernel accepts, reach it by pruning at the join
 * (the log line `N: safe` or `from M to N: safe`), since that is the point
 * of the rule: the second path is not walked again. (The array_lookup_* cases
 * pin down what a constant map key is, which decides whether a key's value
 * must be compared at all.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from '../src/verifier/index.js';
import { OP_JA } from '../src/isa/opcodes.js';
import { loadCorpus, readVerdicts, verifierInput, type CorpusCase } from './support/verifier-cases.js';

const cases = loadCorpus().filter((c) => c.group === 'pruning');
const recorded = readVerdicts().cases;

/** The instruction index of `join:`: the target of the first path's `goto join`, the program's first `goto`. */
function joinOf(c: CorpusCase): number {
  const i = c.insns.findIndex((ins) => ins.code === OP_JA);
  assert.ok(i >= 0, `${c.name}: no goto join`);
  return i + 1 + c.insns[i]!.off;
}

test('the pruning corpus is there, with a kernel verdict for every case', () => {
  assert.ok(cases.length >= 6, `${cases.length} cases`);
  for (const c of cases) assert.ok(recorded[c.name], `${c.name} has a recorded kernel verdict`);
});

for (const c of cases) {
  test(`pruning: ${c.name} → ${recorded[c.name]?.verdict ?? '?'} as in Linux`, () => {
    const want = recorded[c.name]!;
    const r = verify({ ...verifierInput(c), logLevel: 1 });
    assert.equal(r.ok ? 'accept' : 'reject', want.verdict, r.error?.kernelMessage ?? 'accepted');
    if (!r.ok || !c.name.startsWith('prune_')) return;
    const join = joinOf(c);
    assert.match(r.log, new RegExp(`^(from \\d+ to )?${join}: safe$`, 'm'), `the second path is pruned at the join (insn ${join})`);
  });
}
