/**
 * The seeded generators the fuzz and property tests share (mulberry32, xorshift32): a run
 * is reproduced from the seed it prints. One definition instead of a copy in
 * each test file.
 */

/** Uniform numbers in [0, 1) from a 32-bit seed; the same seed gives the same sequence. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unsigned 32-bit words from xorshift32 (a seed of 0 counts as 1); the same seed gives the same sequence. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
