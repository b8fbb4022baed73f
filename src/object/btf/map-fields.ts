/**
 * The special fields of a map value that its BTF declares (the kernel's
 * btf_parse_fields, for the ones tsbpf models): a `struct bpf_spin_lock` and
 * a `struct bpf_timer`. The verifier (verifier/spin-lock.ts) keeps programs
 * off them; the maps (maps/special-fields.ts) copy values around them.
 */
import type { Btf } from './btf.js';

/** The special fields of a map value (the kernel's btf_record), by byte offset. */
export interface MapValueFields {
  /** struct bpf_spin_lock (4 bytes) */
  spinLock?: number;
  /** struct bpf_timer (16 bytes) */
  timer?: number;
}

const FIELD_STRUCT = { spinLock: 'bpf_spin_lock', timer: 'bpf_timer' } as const;

/**
 * btf_parse_fields for the fields tsbpf models: where `struct bpf_spin_lock` and
 * `struct bpf_timer` sit in the value type `typeId` (members, and members of nested
 * structs; or a global data section's variables; the first of each kind). Undefined when the value has neither.
 */
export function mapValueFields(btf: Btf, typeId: number): MapValueFields | undefined {
  const out: MapValueFields = {};
  const walk = (id: number, base: number, depth: number): void => {
    if (depth > 8) return;
    const t = btf.typeById(btf.resolve(id));
    if (t.kind !== 'struct' && t.kind !== 'union') return;
    for (const m of t.members) {
      const mt = btf.typeById(btf.resolve(m.typeId));
      const off = base + Math.floor(m.bitOffset / 8);
      if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.spinLock) out.spinLock ??= off;
      else if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.timer) out.timer ??= off;
      else if (mt.kind === 'struct' || mt.kind === 'union') walk(mt.id, off, depth + 1);
    }
  };
  // a global data section's value (.bss, .data): its variables, each at its offset (btf_find_datasec_var)
  const datasec = (): boolean => {
    const t = btf.typeById(btf.resolve(typeId));
    if (t.kind !== 'datasec') return false;
    for (const v of t.vars) {
      const vt = btf.typeById(v.typeId);
      if (vt.kind !== 'var') continue;
      const mt = btf.typeById(btf.resolve(vt.typeId));
      if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.spinLock) out.spinLock ??= v.offset;
      else if (mt.kind === 'struct' && mt.name === FIELD_STRUCT.timer) out.timer ??= v.offset;
      else if (mt.kind === 'struct' || mt.kind === 'union') walk(mt.id, v.offset, 1);
    }
    return true;
  };
  try {
    if (!datasec()) walk(typeId, 0, 0);
  } catch {
    return undefined;
  }
  return out.spinLock === undefined && out.timer === undefined ? undefined : out;
}

