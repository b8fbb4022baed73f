/**
 * bpf_redirect and bpf_redirect_map. There are no devices in tsbpf: the
 * helpers return the verdict the kernel's would (XDP_REDIRECT or
 * TC_ACT_REDIRECT, or the failure value) and record the target in the run
 * state, where the test run and the hooks read it.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { runOf, u32 } from './env.js';
import { mapArg } from './maps.js';

export const XDP_ABORTED = 0n;
export const XDP_DROP = 1n;
export const XDP_PASS = 2n;
export const XDP_TX = 3n;
export const XDP_REDIRECT = 4n;
export const TC_ACT_SHOT = 2n;
export const TC_ACT_REDIRECT = 7n;
const BPF_F_INGRESS = 1n;
export const BPF_F_BROADCAST = 1n << 3n;
export const BPF_F_EXCLUDE_INGRESS = 1n << 4n;

export const redirectHelpers: HelperDef[] = [
  helper(BPF_FUNC.redirect, (env, r1, r2) => {
    const run = runOf(env);
    const ifindex = u32(r1);
    if (run.progType === 'xdp') {
      // bpf_xdp_redirect: no flags are defined for XDP.
      if (r2 !== 0n) return XDP_ABORTED;
      run.redirect = { helper: 'redirect', ifindex, flags: r2 };
      return XDP_REDIRECT;
    }
    if (r2 & ~BPF_F_INGRESS) return TC_ACT_SHOT;
    run.redirect = { helper: 'redirect', ifindex, flags: r2 };
    return TC_ACT_REDIRECT;
  }),
  helper(BPF_FUNC.redirect_map, (env, r1, r2, r3) => {
    const run = runOf(env);
    const m = mapArg(env, r1);
    const actionMask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
    const flagMask = m.type === 'xskmap' ? 0n : BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
    // The low bits of flags are the verdict to return when the key has no target.
    if (r3 & ~(actionMask | flagMask)) return XDP_ABORTED;
    const key = Number(r2 & 0xffffffffn);
    let present = false;
    // The key is truncated to u32 (__bpf_xdp_redirect_map's lookup takes a u32; checked against
    // Linux 6.18) and the map's own lookup judges it (devmap: index < max_entries; devmap_hash: any u32).
    if (run.scratch) {
      env.space.writeU32(run.scratch, key);
      present = m.lookup(run.scratch, env.cpu) !== 0;
    }
    if (!present && !(r3 & BPF_F_BROADCAST)) {
      run.redirect = undefined;
      return r3 & actionMask;
    }
    run.redirect = { helper: 'redirect_map', ifindex: 0, flags: r3, map: m.addr, key };
    return XDP_REDIRECT;
  }),
];
