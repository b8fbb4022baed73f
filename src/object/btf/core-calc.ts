/**
 * The value a relocation gives on one side (local or target) once its spec
 * is known: libbpf's bpf_core_calc_field_relo, bpf_core_calc_type_relo and
 * bpf_core_calc_enumval_relo.
 */
import type { Errno } from '../../errors.js';
import { CORE_RELO_KINDS, type CoreReloKind } from './ext.js';
import type { StructType } from './types.js';
import { type Spec, skip } from './core-spec.js';

export interface FieldValue {
  value: number;
  /** the field's (element's) size for load/store size adjustment (0 when not applicable) */
  size: number;
  /** the field's type id, resolved (for the size-adjustment rule) */
  typeId: number;
  /** whether the instruction must already hold the local value (not for bitfields) */
  validate: boolean;
}

/** Request to poison the instruction (libbpf's -EUCLEAN). */
export const POISON = Symbol('poison');

/** bpf_core_calc_field_relo: the value of a field relocation for one side (undefined spec: no target). */
export function calcField(spec: Spec | undefined, kind: CoreReloKind, endian: 'le' | 'be', fail: (errno: Errno, why: string) => never): FieldValue | typeof POISON {
  if (kind === 'field_exists') return { value: spec ? 1 : 0, size: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const btf = spec.btf;
  const acc = spec.access[spec.access.length - 1]!;
  /** the element size of (arrays of) the field's type: what a load of it reads */
  const elemSize = (id: number): number => {
    let r = skip(btf, id);
    while (r.t.kind === 'array') r = skip(btf, r.t.elemTypeId);
    return btf.sizeof(r.id);
  };
  if (acc.name === undefined) {
    // array element (or the root itself)
    if (kind === 'field_byte_offset') return { value: spec.bitOffset / 8, size: elemSize(acc.typeId), typeId: acc.typeId, validate: true };
    if (kind === 'field_byte_size') return { value: btf.sizeof(acc.typeId), size: 0, typeId: 0, validate: true };
    fail('EINVAL', `relo ${CORE_RELO_KINDS.indexOf(kind as never)} can't be applied to array access`);
  }
  const st = btf.typeById(acc.typeId) as StructType;
  const m = st.members[acc.idx]!;
  const mt = skip(btf, m.typeId);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = btf.sizeof(mt.id);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // the smallest naturally aligned load that covers the bitfield
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) fail('E2BIG', `relo ${CORE_RELO_KINDS.indexOf(kind as never)} can't be satisfied for bitfield`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeof(mt.id);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  switch (kind) {
    case 'field_byte_offset':
      return { value: byteOff, size: bitfield ? 0 : elemSize(mt.id), typeId: bitfield ? 0 : mt.id, validate: !bitfield };
    case 'field_byte_size':
      return { value: byteSz, size: 0, typeId: 0, validate: !bitfield };
    case 'field_signed': {
      const t = mt.t;
      const signed = ((t.kind === 'enum' || t.kind === 'enum64') && t.signed) || (t.kind === 'int' && t.encoding.signed);
      return { value: signed ? 1 : 0, size: 0, typeId: 0, validate: true };
    }
    case 'field_lshift_u64':
      return {
        value: endian === 'le' ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8),
        size: 0,
        typeId: 0,
        validate: !bitfield,
      };
    case 'field_rshift_u64':
      return { value: 64 - bitSz, size: 0, typeId: 0, validate: true };
    default:
      return fail('EOPNOTSUPP', `${kind} is not a field relocation`);
  }
}

/** bpf_core_calc_type_relo: type-based relocations give 0 when the target type is not found. */
export function calcType(spec: Spec | undefined, kind: CoreReloKind): number {
  if (!spec) return 0;
  switch (kind) {
    case 'type_id_target':
      return spec.rootId;
    case 'type_exists':
    case 'type_matches':
      return 1;
    case 'type_size':
      return spec.btf.sizeof(spec.rootId);
    default:
      return 0;
  }
}

/** bpf_core_calc_enumval_relo: a missing enumerator's value poisons the instruction. */
export function calcEnumval(spec: Spec | undefined, kind: CoreReloKind): number | bigint | typeof POISON {
  if (kind === 'enumval_exists') return spec ? 1 : 0;
  if (!spec) return POISON;
  const t = skip(spec.btf, spec.rootId).t;
  if (t.kind !== 'enum' && t.kind !== 'enum64') return POISON;
  return t.values[spec.access[0]!.idx]!.value;
}
