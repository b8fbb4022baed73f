/**
 * bpf_map_lookup_elem on a BPF_MAP_TYPE_PERCPU_ARRAY known at the call,
 * compiled inline as the kernel's percpu_array_map_gen_lookup does: r0 =
 * key < max_entries ? this CPU's value of element key : NULL, with the key
 * the u32 at r2 and the CPU the run's (the global bpf_get_smp_processor_id
 * reads), wrapping past the map's CPU count as ArrayBase.slotAddr does.
 *
 * The layouts are maps/array.ts's: in an unshared space element i of CPU c
 * is at values + (i * slots + c) * elem_size; in a shared one each CPU's
 * values are one block, cpu_stride bytes apart: values + c * cpu_stride +
 * i * elem_size. The values block is the map's `values` region, whose size
 * gives the CPU count. Blocks never move while the map lives, so what is
 * read at compile time stays true.
 */
import type { HelperInliner } from './compile.js';
import { MapType } from '../../uapi/bpf-types.js';
import { Op } from './wasm.js';
import type { AddressSpace } from '../../memory/address-space.js';
import { arrayDescriptor, emitArrayIndexLookup, knownMapInliner } from './known-map.js';

interface PerCpuArrayLayout {
  values: number;
  maxEntries: number;
  /** CPUs with a value (the map's numCpus) */
  slots: number;
  /** bytes from element i to i + 1 of one CPU, and from one CPU's value to the next */
  perIndex: number;
  perCpu: number;
}

function layoutOf(space: AddressSpace): (mapAddr: number) => PerCpuArrayLayout | undefined {
  return (mapAddr) => {
    const d = arrayDescriptor(space, mapAddr, MapType.percpu_array);
    if (!d) return undefined;
    const { values, elem, maxEntries } = d;
    const region = space.regionOf(values, 1);
    if (!region || region.base !== values || region.kind !== 'map_value') return undefined;
    const cpuStride = space.shared ? Math.ceil((maxEntries * elem) / 64) * 64 : 0;
    const slots = region.size / (cpuStride || maxEntries * elem);
    if (!Number.isInteger(slots) || slots < 1) return undefined;
    return cpuStride
      ? { values, maxEntries, slots, perIndex: elem, perCpu: cpuStride }
      : { values, maxEntries, slots, perIndex: slots * elem, perCpu: elem };
  };
}

/** The inliner (only for verified programs: the checked variant calls the helper). */
export function perCpuArrayLookup(space: AddressSpace): HelperInliner {
  return knownMapInliner(layoutOf(space), (s, l) =>
    emitArrayIndexLookup(s, l.maxEntries, () => {
      // values + key * perIndex + (cpu % slots) * perCpu: below 2^32 (inside the values block)
      const c = s.body;
      c.localGet(s.tmp32);
      c.i32Const(l.perIndex | 0);
      c.op(Op.i32_mul);
      c.globalGet(s.cpuGlobal);
      c.i32Const(l.slots);
      c.op(Op.i32_rem_u);
      c.i32Const(l.perCpu | 0);
      c.op(Op.i32_mul);
      c.op(Op.i32_add);
      c.i32Const(l.values | 0);
      c.op(Op.i32_add);
      c.op(Op.i64_extend_i32_u);
    }),
  );
}
