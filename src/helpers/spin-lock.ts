/**
 * bpf_spin_lock / bpf_spin_unlock (kernel/bpf/helpers.c).
 *
 * Linux takes a real spin lock (with interrupts off) because programs run
 * at once on every CPU. A tsbpf runtime runs one program instance at a time
 * on its JavaScript thread (the engines are synchronous; no helper yields),
 * so within one runtime no other program can be inside the locked region
 * while one is: there the helpers do nothing. Runtimes on worker threads
 * sharing one address space (a shared memory) do run at once; there the
 * lock word in the map value is taken with Atomics, as maps/lock.ts takes a
 * map's own locks (spinning, then giving up with ETIMEDOUT on a word that
 * a terminated worker left held). The verifier (verifier/spin-lock.ts)
 * makes every locked region straight-line code that releases the lock, so a
 * holder always lets go.
 *
 * The lock word is never the program's (the verifier refuses access to it),
 * map updates leave it as it is and host reads see zeros there
 * (maps/special-fields.ts), as the kernel's copy_map_value does.
 */
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { MapLock } from '../maps/lock.js';

let words: Int32Array | undefined;
function wordsOf(env: ExecEnv): Int32Array {
  const buf = env.space.memory.buffer;
  if (words?.buffer !== buf) words = new Int32Array(buf);
  return words;
}

export const spinLockHelpers: HelperDef[] = [
  helper(BPF_FUNC.spin_lock, (env, lock) => {
    if (env.space.shared) new MapLock(wordsOf(env), Number(lock) >>> 2, 'bpf_spin_lock').acquire();
    return 0n;
  }),
  helper(BPF_FUNC.spin_unlock, (env, lock) => {
    if (env.space.shared) new MapLock(wordsOf(env), Number(lock) >>> 2, 'bpf_spin_lock').release();
    return 0n;
  }),
];
