/**
 * Soundness fuzzing of the verifier, as many programs as asked:
 *
 *   node dist/test/fuzz/run-verifier-fuzz.js --count N [--seed S]
 *   npm run fuzz -- --count N
 *
 * Prints the seed (for reproduction: the same --seed and --count replay the
 * same programs), the acceptance ratio and every soundness bug (program,
 * packet, fault, verifier log). Exits 1 on any bug or verifier crash. On a
 * terminal a progress line counts the programs (test/progress.ts).
 */
import { describeBug, fuzz } from './verifier-harness.js';
import { testProgress } from '../progress.js';

async function main(argv: string[]): Promise<number> {
  const arg = (n: string): string | undefined => {
    const i = argv.indexOf(n);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = Number(arg('--count') ?? 1000);
  const seed = arg('--seed') !== undefined ? Number(arg('--seed')) : (Math.random() * 2 ** 32) >>> 0;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    console.error('usage: run-verifier-fuzz.js [--count N] [--seed S]');
    return 2;
  }
  console.log(`verifier fuzz: seed ${seed}, ${count} programs`);
  const t0 = performance.now();
  const progress = testProgress('verifier fuzz:', count);
  const s = await fuzz(
    seed,
    count,
    (o) => {
      progress.end();
      console.log(`\n${describeBug(o)}\n`);
    },
    (done, sum) => progress.update(done, `${sum.accepted} accepted, ${sum.bugs.length} bugs, ${sum.crashes.length} crashes`),
  );
  progress.close();
  const secs = (performance.now() - t0) / 1000;
  for (const c of s.crashes) console.log(`\nverifier crash: seed ${c.seed}\n${c.error}\nprogram:\n${c.source}\n`);
  console.log(
    `verifier fuzz: ${s.count} programs, ${s.accepted} accepted (${((100 * s.accepted) / s.count).toFixed(1)}%), ` +
      `${s.bugs.length} soundness bugs, ${s.crashes.length} crashes, ${secs.toFixed(1)} s (seed ${seed})`,
  );
  return s.bugs.length || s.crashes.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
