/**
 * probe_read helpers (kernel/trace/bpf_trace.c). In tsbpf "kernel" and
 * "user" memory are the same address space, so the variants differ only in
 * their string rules. A read that would fault (outside the space, or in the
 * NULL guard page) returns -EFAULT and zeroes the destination, as
 * copy_from_kernel_nofault's failure path does in the kernel.
 */
import type { ExecEnv, HelperDef } from './types.js';
import { helper } from './def.js';
import { err, inSpace, u32 } from './env.js';

function probeRead(env: ExecEnv, dst: bigint, size: number, src: bigint): bigint {
  if (!inSpace(env, dst, size)) return err('EFAULT');
  const d = Number(dst);
  if (!inSpace(env, src, size)) {
    env.space.u8.fill(0, d, d + size);
    return err('EFAULT');
  }
  env.space.u8.copyWithin(d, Number(src), Number(src) + size);
  return 0n;
}

/**
 * strncpy_from_*_nofault: copy up to size-1 bytes and a NUL; returns the
 * length including the NUL (size when truncated), 0 for size 0, -EFAULT
 * (destination zeroed) when the source runs off readable memory before a NUL.
 */
function probeReadStr(env: ExecEnv, dst: bigint, size: number, src: bigint): bigint {
  if (size === 0) return 0n;
  if (!inSpace(env, dst, size)) return err('EFAULT');
  const d = Number(dst);
  const u8 = env.space.u8;
  if (!inSpace(env, src, 1)) {
    u8.fill(0, d, d + size);
    return err('EFAULT');
  }
  const s = Number(src);
  let n = 0;
  while (n < size - 1) {
    if (s + n >= u8.length) {
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

const READ_ARGS: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'] = ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'];

export const probeHelpers: HelperDef[] = [
  helper(4, 'probe_read', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3), { gplOnly: true }),
  helper(112, 'probe_read_user', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3), { gplOnly: true }),
  helper(113, 'probe_read_kernel', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeRead(env, r1, u32(r2), r3), { gplOnly: true }),
  helper(45, 'probe_read_str', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3), { gplOnly: true }),
  helper(114, 'probe_read_user_str', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3), { gplOnly: true }),
  helper(115, 'probe_read_kernel_str', 'INTEGER', [...READ_ARGS], (env, r1, r2, r3) => probeReadStr(env, r1, u32(r2), r3), { gplOnly: true }),
];
