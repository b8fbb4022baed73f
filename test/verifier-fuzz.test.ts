/**
 * Soundness fuzzing of the verifier (issue 5, part 7): random plausible
 * programs (test/fuzz/verifier-gen.ts) go through verify(); every accepted
 * one runs in the interpreter in checked mode on random packets and must
 * never fault (test/fuzz/verifier-harness.ts). A fresh seed each run, printed
 * for reproduction: TSBPF_FUZZ_SEED=S TSBPF_FUZZ_COUNT=N replays a run, and
 * `npm run fuzz -- --count N --seed S` runs as many as asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBug, fuzz, VerifierFuzzer } from './fuzz/verifier-harness.js';
import { generate } from './fuzz/verifier-gen.js';

const COUNT = Number(process.env.TSBPF_FUZZ_COUNT ?? 1500);
const SEED = process.env.TSBPF_FUZZ_SEED !== undefined ? Number(process.env.TSBPF_FUZZ_SEED) : (Math.random() * 2 ** 32) >>> 0;

test('the generator is deterministic per seed and varied across seeds', () => {
  assert.equal(generate(42).source, generate(42).source);
  const distinct = new Set(Array.from({ length: 50 }, (_, i) => generate(i).source));
  assert.ok(distinct.size >= 49);
  const kinds = new Set(Array.from({ length: 200 }, (_, i) => generate(i).type));
  assert.deepEqual([...kinds].sort(), ['socket_filter', 'xdp']);
});

test('the oracle catches what the verifier must refuse: an unchecked packet read faults in checked mode', async () => {
  const f = new VerifierFuzzer();
  try {
    const program = {
      type: 'xdp' as const,
      maps: [{ type: 'array' as const, keySize: 4 as const, valueSize: 8, maxEntries: 1 }],
      source: 'r2 = *(u32 *)(r1 +0)\nr0 = *(u32 *)(r2 +60)\nr0 = 2\nexit',
    };
    const o = await f.check(program, 1, 6, true);
    assert.equal(o.accepted, false, 'the verifier must refuse an unchecked packet read');
    assert.ok(o.bug, 'a read 60 bytes into packets of at most 64 bytes must fault on some packet');
    assert.match(o.bug.error, /VmFault/);
  } finally {
    f.close();
  }
});

test(`accepted programs never fault (seed ${SEED}, ${COUNT} programs)`, { timeout: 120_000 }, async () => {
  const s = await fuzz(SEED, COUNT);
  const ratio = s.accepted / s.count;
  console.log(`verifier fuzz: seed ${SEED}: ${s.count} programs, ${s.accepted} accepted (${(100 * ratio).toFixed(1)}%), ${s.bugs.length} soundness bugs, ${s.crashes.length} crashes`);
  for (const b of s.bugs) console.log(describeBug(b));
  for (const c of s.crashes) console.log(`verifier crash: seed ${c.seed}\n${c.error}\n${c.source}`);
  assert.equal(s.bugs.length, 0, `${s.bugs.length} accepted programs faulted (reproduce: TSBPF_FUZZ_SEED=${SEED} TSBPF_FUZZ_COUNT=${COUNT})`);
  assert.equal(s.crashes.length, 0, `the verifier threw on ${s.crashes.length} programs`);
  // A generator whose programs are nearly all refused would prove little.
  assert.ok(ratio > 0.3, `only ${(100 * ratio).toFixed(1)}% of the programs were accepted`);
});
