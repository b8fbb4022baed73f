/**
 * bpf_spin_lock / bpf_spin_unlock (kernel/bpf/helpers.c).
 *
 * Linux takes a real spin lock (with interrupts off) because programs run
 * at once on every CPU. A tsbpf runtime runs one program instance at a time
 * on its JavaScript thread (the engines are synchronous; no helper yields),
 * so within one runtime no other program can be inside the locked region
 * while one is: there the helpers do nothing. Runtimes on worker threads
 * sharing one address space (a shared memory) do run at once; there the
 * lock word in the map value is taken with Atomics (0 free, 1 held), by
 * spinning: the verifier (verifier/spin-lock.ts) makes every locked region
 * a few straight-line instructions that release the lock, so a holder lets
 * go at once. A word a terminated worker left held is given up on after
 * LOCK_TIMEOUT_MS with ETIMEDOUT (the run fails), as maps/lock.ts does.
 *
 * The lock word is never the program's (the verifier refuses access to it),
 * map updates leave it as it is and host reads see zeros there
 * (maps/special-fields.ts), as the kernel's copy_map_value does.
 */
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { TsbpfError } from '../errors.js';
import { nowMs } from '../clock.js';

const LOCK_TIMEOUT_MS = 5000;

let words: Int32Array | undefined;
function wordsOf(env: ExecEnv): Int32Array {
  const buf = env.space.memory.buffer;
  if (words?.buffer !== buf) words = new Int32Array(buf);
  return words;
}

function take(w: Int32Array, i: number): void {
  if (Atomics.compareExchange(w, i, 0, 1) === 0) return;
  const t0 = nowMs();
  while (Atomics.compareExchange(w, i, 0, 1) !== 0) {
    if (nowMs() - t0 > LOCK_TIMEOUT_MS) throw new TsbpfError('ETIMEDOUT', `bpf_spin_lock at 0x${(i * 4).toString(16)} held for over ${LOCK_TIMEOUT_MS} ms (a worker stopped inside the locked region?)`);
  }
}

export const spinLockHelpers: HelperDef[] = [
  helper(BPF_FUNC.spin_lock, (env, lock) => {
    if (env.space.shared) take(wordsOf(env), Number(lock) >>> 2);
    return 0n;
  }),
  helper(BPF_FUNC.spin_unlock, (env, lock) => {
    if (env.space.shared) Atomics.store(wordsOf(env), Number(lock) >>> 2, 0);
    return 0n;
  }),
];
