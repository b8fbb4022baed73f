/**
 * Callbacks iterated as Linux 6.8+ iterates them (src/verifier/callback.ts): the callback's exit
 * comes back to its helper call, whose forced checkpoint ends the iterations once one converges,
 * and the explored-state list kept as is_state_visited keeps it (do-check.ts). Where the
 * iterations converge (or are counted) the way the kernel's do, the work done is the kernel's:
 * the counts below are the running kernel's own (Linux 6.18, `processed N insns` and
 * `total_states N` of a log-level-4 load of the same corpus case), and the old scheme (iterating
 * inside the callback, exact unrolling of small bpf_loop bounds) processed far more on most of
 * them (uns_nested_200_imprecise 10,793; lg_bpf_loop_inline_4 60).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from '../src/verifier/index.js';
import { loadCorpus, readVerdicts, verifierInput } from './support/verifier-cases.js';

const corpus = new Map(loadCorpus().map((c) => [c.name, c]));
const recorded = readVerdicts().cases;

/** The kernel's processed instructions (and, where given, total states) for corpus cases. */
const KERNEL: Array<[name: string, processed: number, totalStates?: number]> = [
  ['cb_loop_ok', 10],
  ['cb_loop_ctx_stack', 23],
  ['cb_loop_nested', 18],
  ['cb_for_each_map_elem_ok', 11],
  ['dp_user_ringbuf_cb_data', 16],
  ['lg_bpf_loop_inline_4', 31],
  // a callback's context counted up and stored back, in a callback of a callback: converges at
  // the second iteration of each, where a static precision keeps the count exact
  ['uns_nested_200_imprecise', 106],
  // the count is used as an offset after the loop: exact unrolling, the bound's overflow caught
  ['uns_bpf_loop_64_exact', 1042],
  ['uns_bpf_loop_3_overflow', 65],
  ['uns_callback_loops_at_entry', 14],
  // a bounded loop: states stored only every 20 jumps or 100 instructions (is_state_visited)
  ['limit_bounded_loop_medium', 3003, 51],
  ['cfg_loop_unknown_bound_masked', 81, 3],
];

for (const [name, processed, totalStates] of KERNEL) {
  test(`${name}: the kernel's verdict, after the kernel's ${processed} instructions`, () => {
    const c = corpus.get(name);
    assert.ok(c, `corpus case ${name}`);
    const r = verify(verifierInput(c));
    assert.equal(r.ok ? 'accept' : 'reject', recorded[name]!.verdict, r.error?.kernelMessage ?? 'accepted');
    assert.equal(r.stats.processedInsns, processed);
    if (totalStates !== undefined) assert.equal(r.stats.totalStates, totalStates);
  });
}

test('a callback exit returns to its helper call, and a converged iteration is pruned there', () => {
  const c = corpus.get('cb_loop_ctx_stack')!;
  const r = verify({ ...verifierInput(c), logLevel: 2 });
  assert.ok(r.ok, r.error?.kernelMessage);
  const call = c.insns.findIndex((ins) => ins.code === 0x85);
  assert.match(r.log, new RegExp(`^to caller at ${call}:$`, 'm'), 'the exit goes back to the call, not past it');
  assert.match(r.log, new RegExp(`^${call}: safe$`, 'm'), 'the second iteration is contained in the first at the call');
});
