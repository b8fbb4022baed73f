/**
 * Callback helpers: bpf_loop and bpf_for_each_map_elem (kernel/bpf/
 * bpf_iter.c, kernel/bpf/helpers.c). The callback is a bpf function of the
 * running program, called through ExecEnv.callFunc; the register holds its
 * instruction index (the runtime resolves BPF_PSEUDO_FUNC lddw that way).
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, u32 } from './env.js';
import { mapArg } from './maps.js';

/** BPF_MAX_LOOPS: bpf_loop refuses more iterations than this. */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;

export const loopHelpers: HelperDef[] = [
  helper(BPF_FUNC.loop, (env, r1, r2, r3, r4) => {
    if (r4 !== 0n) return err('EINVAL');
    const n = u32(r1);
    if (n > BPF_MAX_LOOPS) return err('E2BIG');
    const fn = Number(r2);
    let i = 0;
    for (; i < n; i++) {
      // A non-zero return stops the loop; the count includes that iteration.
      if (env.callFunc(fn, [BigInt(i), r3, 0n, 0n, 0n]) !== 0n) return BigInt(i + 1);
    }
    return BigInt(i);
  }),
  helper(BPF_FUNC.for_each_map_elem, (env, r1, r2, r3, r4) => {
    if (r4 !== 0n) return err('EINVAL');
    const m = mapArg(env, r1);
    if (!m.forEach) return err('ENOTSUPP');
    const fn = Number(r2);
    return BigInt(m.forEach(env.cpu, (k, v) => env.callFunc(fn, [r1, BigInt(k), BigInt(v), r3, 0n]) !== 0n));
  }),
];
