/**
 * probe_read helpers (kernel/trace/bpf_trace.c). In tsbpf "kernel" and
 * "user" memory are the same address space, so the variants differ only in
 * their string rules. A read that would fault (outside the space, in the
 * NULL guard page, or in confined mode outside the program's reach:
 * reach.ts) zeroes the destination and returns -EFAULT (-ERANGE for the
 * _kernel variants on low addresses), as the kernel's failure paths do.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, u32 } from './env.js';
import { NULL_GUARD } from '../memory/address-space.js';
import { probeReadable, probeSpan } from './reach.js';

/**
 * copy_from_kernel_nofault refuses addresses the kernel does not own with
 * -ERANGE (x86: anything below TASK_SIZE, i.e. user space); tsbpf's
 * equivalent of "not kernel memory" is the NULL guard page. Other faults,
 * and every fault of the _user variants, are -EFAULT.
 */
function faultErrno(kernel: boolean, src: bigint): 'ERANGE' | 'EFAULT' {
  return kernel && src < BigInt(NULL_GUARD) ? 'ERANGE' : 'EFAULT';
}

function probeRead(env: ExecEnv, dst: bigint, size: number, src: bigint, kernel: boolean): bigint {
  if (!inSpace(env, dst, size)) return err('EFAULT');
  const d = Number(dst);
  if (!probeReadable(env, src, size)) {
    env.space.u8.fill(0, d, d + size);
    return err(faultErrno(kernel, src));
  }
  env.space.u8.copyWithin(d, Number(src), Number(src) + size);
  return 0n;
}

/**
 * strncpy_from_*_nofault: copy up to size-1 bytes and a NUL; returns the
 * length including the NUL (size when truncated), 0 for size 0, -EFAULT
 * (destination zeroed) when the source runs off readable memory before a NUL.
 */
function probeReadStr(env: ExecEnv, dst: bigint, size: number, src: bigint, kernel: boolean): bigint {
  if (size === 0) return 0n;
  if (!inSpace(env, dst, size)) return err('EFAULT');
  const d = Number(dst);
  const u8 = env.space.u8;
  // The bytes the source may be read through (the rest of the space, or of its region when confined).
  const span = probeSpan(env, src, Math.max(1, size - 1));
  if (span === 0) {
    u8.fill(0, d, d + size);
    return err(faultErrno(kernel, src));
  }
  const s = Number(src);
  let n = 0;
  while (n < size - 1) {
    if (n >= span) {
      u8.fill(0, d, d + size);
      return err('EFAULT');
    }
    const c = u8[s + n]!;
    if (c === 0) break;
    n++;
  }
  u8.copyWithin(d, s, s + n);
  u8[d + n] = 0;
  return BigInt(n + 1);
}

export const probeHelpers: HelperDef[] = [
  // The legacy probe_read(_str) on x86 reads user memory below TASK_SIZE (bpf_probe_read_compat): -EFAULT there.
  helper(BPF_FUNC.probe_read, (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3, false)),
  helper(BPF_FUNC.probe_read_user, (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3, false)),
  helper(BPF_FUNC.probe_read_kernel, (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3, true)),
  helper(BPF_FUNC.probe_read_str, (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3, false)),
  helper(BPF_FUNC.probe_read_user_str, (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3, false)),
  helper(BPF_FUNC.probe_read_kernel_str, (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3, true)),
];
