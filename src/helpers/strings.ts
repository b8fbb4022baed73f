/** bpf_strncmp (kernel/bpf/helpers.c): lib/string.c strncmp, returning -1, 0 or 1. */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, u32 } from './env.js';

export const stringHelpers: HelperDef[] = [
  helper(BPF_FUNC.strncmp, (env, r1, r2, r3) => {
    const n = u32(r2);
    if (!inSpace(env, r1, n) || !inSpace(env, r3, 1)) return err('EFAULT');
    const u8 = env.space.u8;
    const a = Number(r1);
    const b = Number(r3);
    for (let i = 0; i < n; i++) {
      const c1 = u8[a + i]!;
      const c2 = b + i < u8.length ? u8[b + i]! : 0;
      if (c1 !== c2) return c1 < c2 ? 0xffffffffffffffffn : 1n;
      if (c1 === 0) break;
    }
    return 0n;
  }),
];
