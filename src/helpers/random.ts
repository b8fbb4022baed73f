/** bpf_get_prandom_u32: 32 bits from the runtime's generator (seedable for reproducible runs). */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { runOf } from './env.js';

export const randomHelpers: HelperDef[] = [
  helper(BPF_FUNC.get_prandom_u32, (env) => BigInt(runOf(env).host.prandomU32() >>> 0)),
];
