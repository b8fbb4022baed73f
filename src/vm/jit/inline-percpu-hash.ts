/**
 * bpf_map_lookup_elem and bpf_map_update_elem on a per-CPU hash map known
 * at the call, where the call itself stays a call (updates; lookups the
 * inline lookup declines): the WebAssembly probe (helpers/hash-probe.ts)
 * does them without JS once it knows the run's CPU, which the JIT holds in
 * a global the probe cannot see. So before the call the JIT stores 1 + the
 * CPU number in the table's H.CPU word (hash-layout.ts), and the probe
 * takes it (clearing the word) to address this CPU's value, as the
 * kernel's htab_percpu_map_update_elem writes this_cpu_ptr's slot. Whatever
 * takes the call clears the word (the probe, or the JS map operation when
 * the call goes there), so a call the JIT did not prepare (a map not known
 * at the call) finds it clear and goes to JS.
 *
 * The inliner emits that store and declines, so the compiler emits the
 * helper call after it (compile.ts imports every inlinable helper for the
 * sites whose inliner declines; calls.ts emits the call after an inliner
 * returns false). Only for verified programs (the probe is only linked
 * into their variant) in an unshared memory (one word per
 * table: threads would race for it; shared per-CPU tables go to JS).
 */
import type { HelperInliner, InlineSite } from './compile.js';
import { MapType } from '../../uapi/bpf-types.js';
import { NULL_GUARD, type AddressSpace } from '../../memory/address-space.js';
import { DESC_TABLE_STATE, H, HDR_WORDS, PROBE_PERCPU } from '../../memory/hash-layout.js';
import { Op } from './wasm.js';

/** The address of the H.CPU word of the per-CPU hash map at `mapAddr` whose probe takes per-CPU calls; else undefined. */
export function perCpuHashCpuWord(space: AddressSpace): (mapAddr: number) => number | undefined {
  return (mapAddr) => {
    if (space.shared) return undefined;
    if (mapAddr < NULL_GUARD || mapAddr + DESC_TABLE_STATE + 4 > space.size || mapAddr % 4 !== 0) return undefined;
    if (space.regionOf(mapAddr, DESC_TABLE_STATE + 4)?.kind !== 'map') return undefined;
    const type = space.readU32(mapAddr);
    if (type !== MapType.percpu_hash && type !== MapType.lru_percpu_hash) return undefined;
    const st = space.readU32(mapAddr + DESC_TABLE_STATE);
    if (st === 0 || st + HDR_WORDS * 4 > space.size) return undefined;
    if (!(space.readU32(st + H.PROBE * 4) & PROBE_PERCPU)) return undefined;
    return st + H.CPU * 4;
  };
}

/** The inliner that tells the probe the CPU, then declines (the call follows). */
export function perCpuHashCall(wordOf: (mapAddr: number) => number | undefined): HelperInliner {
  return (s: InlineSite): boolean => {
    const mapAddr = s.aux?.mapAddr ?? s.constReg(1);
    const word = mapAddr === undefined ? undefined : wordOf(mapAddr);
    if (word === undefined) return false;
    const c = s.body;
    c.i32Const(0);
    c.globalGet(s.cpuGlobal);
    c.i32Const(1);
    c.op(Op.i32_add);
    c.mem(Op.i32_store, 2, word);
    return false;
  };
}
