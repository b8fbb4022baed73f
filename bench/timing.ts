/**
 * Timing for benchmarks on a shared machine: ns per call of `fn`, the best of 8 rounds of n/8
 * calls after a warm-up (other processes share the machine: the best round is the least disturbed).
 */
export function bestOf8(n: number, fn: () => void, warmup = 1000): number {
  for (let i = 0; i < Math.min(n, warmup); i++) fn();
  const per = Math.ceil(n / 8);
  let best = Infinity;
  for (let round = 0; round < 8; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / per);
  }
  return best;
}
