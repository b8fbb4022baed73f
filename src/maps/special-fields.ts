/**
 * The special fields of a map value (the kernel's btf_record): a
 * `struct bpf_spin_lock`, `struct bpf_timer`, kptr or list or rbtree root that the value's BTF
 * places in it. Programs may not touch them (the verifier refuses it), and updates
 * leave them alone: the kernel's copy_map_value copies a value around its
 * special fields (a lock another thread holds stays held; a new element's
 * are zero, as check_and_init_map_value makes them), and a value copied out
 * to user space has them zeroed. A lock word is 0 unless a program on
 * another thread of a shared space holds it (helpers/spin-lock.ts).
 */
import type { Btf } from '../object/btf/btf.js';
import type { MapSpec } from '../object/spec.js';
import { mapValueFields } from '../object/btf/map-fields.js';
import { GRAPH_ROOT_SIZE } from '../object/btf/graph-root.js';

/** A kptr field's size: a pointer (the runtime refuses programs using such a map: runtime/loader.ts). */
export const KPTR_SIZE = 8;

/** [offset, size] of each special field of a value. */
export type SpecialFields = ReadonlyArray<readonly [number, number]>;

/** The special fields of the map's value type, from the object's BTF (none without BTF). */
export function specialFieldsOf(spec: MapSpec, btf: Btf | undefined): SpecialFields {
  if (!btf || !spec.btfValueTypeId) return [];
  const f = mapValueFields(btf, spec.btfValueTypeId);
  const out: Array<readonly [number, number]> = [];
  if (f?.spinLock !== undefined) out.push([f.spinLock, 4]);
  if (f?.timer !== undefined) out.push([f.timer, 16]);
  for (const k of f?.kptrs ?? []) out.push([k.off, KPTR_SIZE]);
  for (const g of f?.graphRoots ?? []) out.push([g.off, GRAPH_ROOT_SIZE]);
  return out;
}

/** Whether the value holds a bpf_spin_lock (BPF_F_LOCK is valid only then: array/htab_map_update_elem). */
export function hasSpinLock(fields: SpecialFields): boolean {
  return fields.some(([, size]) => size === 4);
}

/** Zero the special fields of the value at `addr` (a copy handed to the host). */
export function zeroSpecialFields(u8: Uint8Array, addr: number, fields: SpecialFields): void {
  for (const [off, size] of fields) u8.fill(0, addr + off, addr + off + size);
}

/** copy_map_value: write `valueSize` bytes from `src` (an address of `u8`, or bytes) to `dst`, around the special fields. */
export function copyMapValue(u8: Uint8Array, dst: number, src: number | Uint8Array, valueSize: number, fields: SpecialFields): void {
  const kept = fields.map(([off, size]) => u8.slice(dst + off, dst + off + size));
  if (typeof src === 'number') u8.copyWithin(dst, src, src + valueSize);
  else u8.set(src, dst);
  fields.forEach(([off], k) => u8.set(kept[k]!, dst + off));
}
