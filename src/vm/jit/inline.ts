/**
 * Helpers the JIT compiles inline instead of calling through an import (a
 * JS<->wasm crossing costs tens of nanoseconds; these helpers are a few
 * instructions each).
 *
 * An inliner receives the call site and either emits code that leaves the
 * helper's result in r0 and returns true, or declines (returns false) and
 * the call goes through the import as usual. r1..r5 are clobbered by a
 * helper call in the eBPF calling convention, so inlined code may leave them
 * as they are.
 */
import type { HelperInliner, InlineSite } from './compile.js';
import { BPF_FUNC } from '../../uapi/helper-ids.js';
import { MapType } from '../../uapi/bpf-types.js';
import { Op } from './wasm.js';
import type { AddressSpace } from '../../memory/address-space.js';
import { hashLayoutFromDescriptor, hashMapLookup } from './inline-hash.js';
import { perCpuHashCall, perCpuHashCpuWord } from './inline-percpu-hash.js';
import { arrayDescriptor, emitArrayIndexLookup, knownMapInliner } from './known-map.js';
import { perCpuArrayLookup } from './inline-percpu-array.js';

/** bpf_get_smp_processor_id(): the run's CPU, kept in a global for the run. */
export const smpProcessorId: HelperInliner = (s: InlineSite): boolean => {
  s.body.globalGet(s.cpuGlobal);
  s.body.op(Op.i64_extend_i32_u);
  s.body.localSet(s.reg(0));
  return true;
};

/** Where an array map keeps its values, as the map implementation lays them out. */
export interface ArrayMapLayout {
  /** address of element 0's value */
  values: number;
  /** bytes from one element's value to the next (value_size rounded up to 8, as the kernel does) */
  stride: number;
  maxEntries: number;
}

/**
 * bpf_map_lookup_elem on an array map known at the call (InsnAux.mapAddr
 * from the verifier, or an lddw of the map pointer into r1 earlier in the
 * block), as the kernel's own array_map_gen_lookup does: r0 = key <
 * max_entries ? values + key * stride : NULL, with the key the u32 at r2.
 * `layoutOf` maps a map descriptor address to its layout, or undefined for
 * maps that are not plain arrays (the site then calls the helper).
 */
export function arrayMapLookup(layoutOf: (mapAddr: number) => ArrayMapLayout | undefined): HelperInliner {
  return knownMapInliner(layoutOf, (s, l) =>
    emitArrayIndexLookup(s, l.maxEntries, () => {
      const c = s.body;
      c.localGet(s.tmp32);
      c.op(Op.i64_extend_i32_u);
      c.i64ConstNum(l.stride);
      c.op(Op.i64_mul);
      c.i64ConstNum(l.values);
      c.op(Op.i64_add);
    }),
  );
}


/** The layout of a plain array map (known-map.ts arrayDescriptor); per-CPU arrays and other types are undefined. */
function arrayLayoutFromDescriptor(space: AddressSpace): (mapAddr: number) => ArrayMapLayout | undefined {
  return (mapAddr) => {
    const d = arrayDescriptor(space, mapAddr, MapType.array);
    return d && { values: d.values, stride: d.elem, maxEntries: d.maxEntries };
  };
}

/**
 * The inliners every JitEngine uses unless told otherwise:
 * bpf_get_smp_processor_id, and bpf_map_lookup_elem on plain array maps
 * and, for verified programs (`verified`: not the checked variant, whose
 * key pointers nothing proved), on hash maps of every preallocated kind
 * (inline-hash.ts) and per-CPU arrays (inline-percpu-array.ts); and for
 * those, the CPU the WebAssembly probe needs before a per-CPU hash map's
 * lookup or update call (inline-percpu-hash.ts).
 */
export function defaultInliners(space: AddressSpace, verified = true): ReadonlyMap<number, HelperInliner> {
  const array = arrayMapLookup(arrayLayoutFromDescriptor(space));
  const hash = verified ? hashMapLookup(hashLayoutFromDescriptor(space)) : undefined;
  const perCpuArray = verified ? perCpuArrayLookup(space) : undefined;
  if (!hash || !perCpuArray) return new Map([[BPF_FUNC.get_smp_processor_id, smpProcessorId], [BPF_FUNC.map_lookup_elem, array]]);
  const perCpuHash = perCpuHashCall(perCpuHashCpuWord(space));
  return new Map([
    [BPF_FUNC.get_smp_processor_id, smpProcessorId],
    [BPF_FUNC.map_lookup_elem, (s: InlineSite): boolean => array(s) || perCpuArray(s) || hash(s) || perCpuHash(s)],
    [BPF_FUNC.map_update_elem, perCpuHash],
  ]);
}
