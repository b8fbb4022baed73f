/**
 * CO-RE relocation specs (libbpf's struct bpf_core_spec): the access path a
 * relocation names, parsed on the local side (bpf_core_parse_spec) and
 * printed as libbpf's log prints it (bpf_core_format_spec). Also the error
 * type and the step budget that every part of relocation shares.
 */
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import type { Errno } from '../../errors.js';
import type { CoreRelo, CoreReloKind } from './ext.js';
import type { BtfType, StructType } from './types.js';

/** BPF_CORE_SPEC_MAX_LEN: the deepest access path libbpf accepts. */
export const MAX_SPEC_LEN = 64;
export const MAX_DEPTH = 32;
/** member-search steps per relocation: anonymous members can nest exponentially in hostile BTF */
const MAX_STEPS = 1 << 20;
let steps = 0;

/** Start a relocation's step budget (each relocation gets MAX_STEPS). */
export function resetSteps(): void {
  steps = 0;
}

/** Count one step of type comparison or member search; throws E2BIG past the budget. */
export function step(where: string): void {
  if (++steps > MAX_STEPS) throw new BtfError(-1, `CO-RE: ${where} exceeds ${MAX_STEPS} steps`, 'E2BIG');
}

/** A CO-RE relocation that cannot be applied; names the type and access string. */
export class CoreRelocationError extends BtfError {
  constructor(
    readonly insnOff: number,
    readonly relo: CoreRelo,
    readonly typeName: string,
    readonly why: string,
    errno: Errno = 'EINVAL',
    prog?: string,
  ) {
    super(-1, `${prog ? `prog '${prog}': ` : ''}CO-RE relocation #${relo.reloIdx ?? '?'} at insn #${insnOff} (${relo.kind}) of ${typeName}, access "${relo.accessStr}": ${why}`, errno);
  }
}

export interface Accessor {
  /** composite (for a member) or array type id this index applies to */
  typeId: number;
  idx: number;
  /** member name; undefined for array indices */
  name?: string;
}

export interface Spec {
  btf: Btf;
  rootId: number;
  /** named members and array indices (what matching walks) */
  access: Accessor[];
  /** every index, anonymous members included */
  raw: number[];
  bitOffset: number;
}

export const isFieldKind = (k: CoreReloKind): boolean => k.startsWith('field_');
export const isTypeKind = (k: CoreReloKind): boolean => k.startsWith('type_');
export const isEnumvalKind = (k: CoreReloKind): boolean => k.startsWith('enumval_');

/** Skip typedefs and qualifiers (libbpf's skip_mods_and_typedefs). */
export function skip(btf: Btf, id: number): { id: number; t: BtfType } {
  const r = btf.resolve(id);
  return { id: r, t: btf.typeById(r) };
}

function parseAccess(s: string, relo: CoreRelo, typeName: string): number[] {
  if (!/^\d+(:\d+)*$/.test(s)) throw new CoreRelocationError(relo.insnOff, relo, typeName, 'malformed access string');
  const parts = s.split(':').map(Number);
  if (parts.length > MAX_SPEC_LEN) throw new CoreRelocationError(relo.insnOff, relo, typeName, 'access path too long');
  return parts;
}

export function kindName(t: BtfType): string {
  const k = t.kind === 'enum64' ? 'enum' : t.kind;
  return t.name ? `${k} ${t.name}` : `(anon ${k})`;
}

/** Parse the local side of a relocation (libbpf's bpf_core_parse_spec). */
export function parseSpec(btf: Btf, relo: CoreRelo): Spec {
  const root = btf.typeById(relo.typeId);
  const tn = kindName(root);
  const raw = parseAccess(relo.accessStr, relo, tn);
  const spec: Spec = { btf, rootId: relo.typeId, access: [], raw, bitOffset: 0 };
  if (isTypeKind(relo.kind)) {
    if (raw.length !== 1 || raw[0] !== 0) throw new CoreRelocationError(relo.insnOff, relo, tn, 'a type relocation needs access string "0"');
    return spec;
  }
  if (isEnumvalKind(relo.kind)) {
    const { t } = skip(btf, relo.typeId);
    if ((t.kind !== 'enum' && t.kind !== 'enum64') || raw.length !== 1 || raw[0]! >= t.values.length)
      throw new CoreRelocationError(relo.insnOff, relo, tn, 'not an enumerator of an enum');
    spec.access.push({ typeId: relo.typeId, idx: raw[0]!, name: t.values[raw[0]!]!.name });
    return spec;
  }
  // field: first index is an array index into the root, then members/elements
  let { id } = skip(btf, relo.typeId);
  spec.access.push({ typeId: id, idx: raw[0]! });
  spec.bitOffset = raw[0]! * btf.sizeof(id) * 8;
  for (let i = 1; i < raw.length; i++) {
    const idx = raw[i]!;
    const t = btf.typeById(id);
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = t.members[idx];
      if (!m) throw new CoreRelocationError(relo.insnOff, relo, tn, `member index ${idx} out of range in ${kindName(t)}`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.access.push({ typeId: id, idx, name: m.name });
      id = skip(btf, m.typeId).id;
    } else if (t.kind === 'array') {
      const prev = spec.access[spec.access.length - 1]!;
      if (!isFlexArray(btf, prev, t.nelems) && idx >= t.nelems)
        throw new CoreRelocationError(relo.insnOff, relo, tn, `array index ${idx} out of range (${t.nelems})`);
      const elem = skip(btf, t.elemTypeId).id;
      spec.access.push({ typeId: elem, idx });
      spec.bitOffset += idx * btf.sizeof(elem) * 8;
      id = elem;
    } else {
      throw new CoreRelocationError(relo.insnOff, relo, tn, `index ${idx} applied to a ${t.kind}`);
    }
  }
  return spec;
}

/** A zero-length array as the last member of a struct may be indexed beyond its length. */
export function isFlexArray(btf: Btf, acc: Accessor, nelems: number): boolean {
  if (acc.name === undefined || nelems > 0) return false;
  const t = btf.typeById(acc.typeId) as StructType;
  return acc.idx === t.members.length - 1;
}


/** libbpf's names of the relocation kinds (core_relo_kind_str), as its log prints them. */
export const KIND_STR: Record<CoreReloKind, string> = {
  field_byte_offset: 'byte_off',
  field_byte_size: 'byte_sz',
  field_exists: 'field_exists',
  field_signed: 'signed',
  field_lshift_u64: 'lshift_u64',
  field_rshift_u64: 'rshift_u64',
  type_id_local: 'local_type_id',
  type_id_target: 'target_type_id',
  type_exists: 'type_exists',
  type_size: 'type_size',
  enumval_exists: 'enumval_exists',
  enumval_value: 'enumval_value',
  type_matches: 'type_matches',
};

/**
 * A spec as libbpf's bpf_core_format_spec prints it:
 * `<byte_off> [7] struct task_struct___x.__state (0:0 @ offset 0)`.
 */
export function formatSpec(spec: Spec, kind: CoreReloKind): string {
  const t = spec.btf.typeById(spec.rootId);
  let s = `<${KIND_STR[kind]}> [${spec.rootId}] ${t.kind} ${t.name || '<anon>'}`;
  if (isTypeKind(kind)) return s;
  if (isEnumvalKind(kind)) {
    const e = skip(spec.btf, spec.rootId).t;
    // libbpf's target spec starts zeroed: a candidate without the enumerator prints the first one
    const v = (e.kind === 'enum' || e.kind === 'enum64') ? e.values[spec.raw[0] ?? 0] : undefined;
    return v ? `${s}::${v.name} = ${v.value}` : s;
  }
  spec.access.forEach((a, i) => {
    if (a.name !== undefined) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  const off = spec.bitOffset % 8 ? `${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8}` : `${spec.bitOffset / 8}`;
  return `${s} (${spec.raw.join(':')} @ offset ${off})`;
}
