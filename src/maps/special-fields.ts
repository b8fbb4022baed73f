/**
 * The special fields of a map value (the kernel's btf_record): a
 * `struct bpf_spin_lock` or `struct bpf_timer` that the value's BTF places
 * in it. Programs may not touch them (the verifier refuses it), and updates
 * leave them alone: the kernel's copy_map_value copies a value around its
 * special fields, and check_and_init_map_value zeroes them in a new element.
 * tsbpf's bpf_spin_lock is a no-op (helpers/spin-lock.ts), so a lock word
 * is always 0: an update zeroes the fields it would otherwise have copied
 * from the new value, and the host never sees anything but zeros there.
 */
import type { Btf } from '../object/btf/btf.js';
import type { MapSpec } from '../object/spec.js';
import { mapValueFields } from '../verifier/spin-lock.js';

/** [offset, size] of each special field of a value. */
export type SpecialFields = ReadonlyArray<readonly [number, number]>;

/** The special fields of the map's value type, from the object's BTF (none without BTF). */
export function specialFieldsOf(spec: MapSpec, btf: Btf | undefined): SpecialFields {
  if (!btf || !spec.btfValueTypeId) return [];
  const f = mapValueFields(btf, spec.btfValueTypeId);
  const out: Array<readonly [number, number]> = [];
  if (f?.spinLock !== undefined) out.push([f.spinLock, 4]);
  if (f?.timer !== undefined) out.push([f.timer, 16]);
  return out;
}

/** Whether the value holds a bpf_spin_lock (BPF_F_LOCK is valid only then: array/htab_map_update_elem). */
export function hasSpinLock(fields: SpecialFields): boolean {
  return fields.some(([, size]) => size === 4);
}

/** Zero the special fields of the value at `addr`. */
export function zeroSpecialFields(u8: Uint8Array, addr: number, fields: SpecialFields): void {
  for (const [off, size] of fields) u8.fill(0, addr + off, addr + off + size);
}
