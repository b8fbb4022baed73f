/**
 * bpf_tail_call: the engine performs it (it replaces the running program
 * without returning), so the registry entry is here for its id and
 * prototype. An engine that reaches this function did not implement tail
 * calls; on failure (slot empty, index out of range, 33 calls already
 * made) the kernel returns and the program continues, so it returns.
 * The kernel declares it RET_VOID: r0 is not defined after the call.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err } from './env.js';

/** MAX_TAIL_CALL_CNT */
export const MAX_TAIL_CALL_CNT = 33;

export const tailCallHelpers: HelperDef[] = [
  helper(BPF_FUNC.tail_call, () => err('ENOENT')),
];
