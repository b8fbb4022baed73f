/**
 * bpf_spin_lock / bpf_spin_unlock (kernel/bpf/helpers.c): no-ops in tsbpf.
 *
 * Linux takes a real spin lock, with interrupts off, because programs run
 * at once on every CPU and from interrupts. A tsbpf runtime runs one
 * program instance at a time on one JavaScript thread (the engines are
 * synchronous; a helper never yields), so no other program can be inside
 * the locked region while one is: taking the lock cannot contend and
 * releasing it has nothing to wake. Threads sharing maps with tsbpf
 * (workers over shared memory) run their own runtimes and do not take these
 * locks, so a lock does not order them (as in Linux, where user space does
 * not take the program's lock except through BPF_F_LOCK). The verifier
 * (verifier/spin-lock.ts) holds programs to the kernel's rules so that
 * the same program is correct on Linux. The lock word stays 0: programs may
 * not touch it, and map updates leave it zeroed (maps/special-fields.ts).
 */
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';

export const spinLockHelpers: HelperDef[] = [
  helper(BPF_FUNC.spin_lock, () => 0n),
  helper(BPF_FUNC.spin_unlock, () => 0n),
];
