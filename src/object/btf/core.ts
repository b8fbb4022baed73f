/**
 * CO-RE: compile once, run everywhere (libbpf's relo_core.c semantics).
 *
 * clang records, for each instruction that encodes a layout fact of a type
 * (`__builtin_preserve_access_index`, `BPF_CORE_READ`, `bpf_core_field_exists`,
 * `bpf_core_type_size`, `bpf_core_enum_value`, ...), a relocation: the local
 * root type, an access string ("0:1:2": an index into an array of the root,
 * then member or element indices) and what is wanted (byte offset, size,
 * existence, signedness, bitfield shifts, type id/existence/size, enumerator
 * existence/value). At load time the loader finds the same type in the
 * *target* BTF (the kernel's in libbpf; tsbpf's own context and tracepoint
 * types here), walks the same access path there by member *name*, and
 * patches the instruction's immediate or offset with the target's value.
 *
 * Rules followed (libbpf): candidates are target types of the same kind whose
 * name equals the local name with any `___flavor` suffix stripped; members
 * match by name (searching through anonymous structs/unions) and compatible
 * kind; several matching candidates must agree; a missing target makes the
 * existence checks 0, and is an error for everything else.
 */
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { essentialName } from './flavor.js';
export { essentialName };
import type { Errno } from '../../errors.js';
import { CORE_RELO_KINDS, type CoreRelo, type CoreReloKind } from './ext.js';
import type { BtfType, StructType } from './types.js';
import type { Insn } from '../../isa/insn.js';
import { classOf, BPF_JMP, BPF_CALL, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_ALU64, BPF_K, sourceOf, sizeOf, sizeBytes, modeOf, BPF_MEM, BPF_MEMSX, BPF_B, BPF_H, BPF_W, BPF_DW, OP_LDDW } from '../../isa/opcodes.js';

/** BPF_CORE_SPEC_MAX_LEN: the deepest access path libbpf accepts. */
const MAX_SPEC_LEN = 64;
const MAX_DEPTH = 32;
/** member-search steps per relocation: anonymous members can nest exponentially in hostile BTF */
const MAX_STEPS = 1 << 20;
let steps = 0;

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

interface Accessor {
  /** composite (for a member) or array type id this index applies to */
  typeId: number;
  idx: number;
  /** member name; undefined for array indices */
  name?: string;
}

interface Spec {
  btf: Btf;
  rootId: number;
  /** named members and array indices (what matching walks) */
  access: Accessor[];
  /** every index, anonymous members included */
  raw: number[];
  bitOffset: number;
}

const isFieldKind = (k: CoreReloKind): boolean => k.startsWith('field_');
const isTypeKind = (k: CoreReloKind): boolean => k.startsWith('type_');
const isEnumvalKind = (k: CoreReloKind): boolean => k.startsWith('enumval_');

/** Skip typedefs and qualifiers (libbpf's skip_mods_and_typedefs). */
function skip(btf: Btf, id: number): { id: number; t: BtfType } {
  const r = btf.resolve(id);
  return { id: r, t: btf.typeById(r) };
}

function parseAccess(s: string, relo: CoreRelo, typeName: string): number[] {
  if (!/^\d+(:\d+)*$/.test(s)) throw new CoreRelocationError(relo.insnOff, relo, typeName, 'malformed access string');
  const parts = s.split(':').map(Number);
  if (parts.length > MAX_SPEC_LEN) throw new CoreRelocationError(relo.insnOff, relo, typeName, 'access path too long');
  return parts;
}

function kindName(t: BtfType): string {
  const k = t.kind === 'enum64' ? 'enum' : t.kind;
  return t.name ? `${k} ${t.name}` : `(anon ${k})`;
}

/** Parse the local side of a relocation (libbpf's bpf_core_parse_spec). */
function parseSpec(btf: Btf, relo: CoreRelo): Spec {
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
function isFlexArray(btf: Btf, acc: Accessor, nelems: number): boolean {
  if (acc.name === undefined || nelems > 0) return false;
  const t = btf.typeById(acc.typeId) as StructType;
  return acc.idx === t.members.length - 1;
}

/** Compatible field types (bpf_core_fields_are_compat): same broad kind, sizes may differ. */
function fieldsCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (++steps > MAX_STEPS) throw new BtfError(-1, `CO-RE: type comparison exceeds ${MAX_STEPS} steps`, 'E2BIG');
  const l = skip(lb, lid).t;
  const t = skip(tb, tid).t;
  const composite = (x: BtfType): boolean => x.kind === 'struct' || x.kind === 'union' || x.kind === 'fwd';
  if (composite(l) && composite(t)) return true;
  const enumish = (x: BtfType): boolean => x.kind === 'enum' || x.kind === 'enum64';
  if (enumish(l) && enumish(t)) return true;
  if (l.kind !== t.kind) return false;
  switch (l.kind) {
    case 'void':
    case 'ptr':
    case 'float':
      return true;
    case 'int':
      // ints match regardless of size and signedness; bitfield-ness must agree
      return l.offset === 0 && (t as typeof l).offset === 0;
    case 'array':
      return fieldsCompat(lb, l.elemTypeId, tb, (t as typeof l).elemTypeId, depth + 1);
    default:
      return false;
  }
}

/** Compatible types for type-based relocations (bpf_core_types_are_compat). */
function typesCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (++steps > MAX_STEPS) throw new BtfError(-1, `CO-RE: type comparison exceeds ${MAX_STEPS} steps`, 'E2BIG');
  const l = skip(lb, lid).t;
  const t = skip(tb, tid).t;
  const enumish = (x: BtfType): boolean => x.kind === 'enum' || x.kind === 'enum64';
  if (enumish(l) && enumish(t)) return true;
  if (l.kind !== t.kind) return false;
  switch (l.kind) {
    case 'void':
    case 'struct':
    case 'union':
    case 'fwd':
    case 'float':
      return true;
    case 'int':
      return l.offset === 0 && (t as typeof l).offset === 0;
    case 'ptr':
      return typesCompat(lb, l.typeId, tb, (t as typeof l).typeId, depth + 1);
    case 'array':
      return typesCompat(lb, l.elemTypeId, tb, (t as typeof l).elemTypeId, depth + 1);
    case 'func_proto': {
      const tp = t as typeof l;
      if (l.params.length !== tp.params.length) return false;
      for (let i = 0; i < l.params.length; i++) if (!typesCompat(lb, l.params[i]!.typeId, tb, tp.params[i]!.typeId, depth + 1)) return false;
      return typesCompat(lb, l.returnTypeId, tb, tp.returnTypeId, depth + 1);
    }
    default:
      return false;
  }
}

/** Structural match for `bpf_core_type_matches` (libbpf's bpf_core_types_match, simplified to its core rules). */
function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (++steps > MAX_STEPS) throw new BtfError(-1, `CO-RE: type comparison exceeds ${MAX_STEPS} steps`, 'E2BIG');
  const l = skip(lb, lid).t;
  const t = skip(tb, tid).t;
  if (l.name && t.name && essentialName(l.name) !== essentialName(t.name)) return false;
  switch (l.kind) {
    case 'void':
      return t.kind === 'void';
    case 'fwd':
    case 'float':
      return t.kind === l.kind;
    case 'int':
      return t.kind === 'int' && t.size === l.size && t.encoding.signed === l.encoding.signed;
    case 'enum':
    case 'enum64': {
      if ((t.kind !== 'enum' && t.kind !== 'enum64') || t.size !== l.size) return false;
      const names = new Set(t.values.map((v) => essentialName(v.name)));
      return l.values.every((v) => names.has(essentialName(v.name)));
    }
    case 'ptr':
      return t.kind === 'ptr' && typesMatch(lb, l.typeId, tb, t.typeId, depth + 1);
    case 'array':
      return t.kind === 'array' && t.nelems === l.nelems && typesMatch(lb, l.elemTypeId, tb, t.elemTypeId, depth + 1);
    case 'struct':
    case 'union': {
      if (t.kind !== l.kind || l.members.length > t.members.length) return false;
      return l.members.every((m) => {
        const tm = t.members.find((x) => x.name === m.name);
        return tm !== undefined && tm.bitfieldSize === m.bitfieldSize && typesMatch(lb, m.typeId, tb, tm.typeId, depth + 1);
      });
    }
    case 'func_proto':
      return (
        t.kind === 'func_proto' &&
        t.params.length === l.params.length &&
        typesMatch(lb, l.returnTypeId, tb, t.returnTypeId, depth + 1) &&
        l.params.every((p, i) => typesMatch(lb, p.typeId, tb, t.params[i]!.typeId, depth + 1))
      );
    default:
      return false;
  }
}

/**
 * Find the local member `acc` in target composite `tid` by name, through
 * anonymous members; pushes the accessor and raw indices into `spec`.
 * Returns the member's type id, or undefined when absent or incompatible.
 */
function matchMember(ls: Spec, acc: Accessor, tb: Btf, tid: number, spec: Spec, depth = 0): number | undefined {
  if (depth > MAX_DEPTH || spec.raw.length >= MAX_SPEC_LEN) return undefined;
  const lt = ls.btf.typeById(acc.typeId) as StructType;
  const lm = lt.members[acc.idx]!;
  const { id, t } = skip(tb, tid);
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (let i = 0; i < t.members.length; i++) {
    if (++steps > MAX_STEPS) throw new BtfError(-1, `CO-RE: member search in [${id}] exceeds ${MAX_STEPS} steps`, 'E2BIG');
    const m = t.members[i]!;
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const found = matchMember(ls, acc, tb, m.typeId, spec, depth + 1);
      if (found !== undefined) return found;
    } else if (m.name === lm.name) {
      if (!fieldsCompat(ls.btf, lm.typeId, tb, m.typeId)) {
        spec.bitOffset -= m.bitOffset;
        spec.raw.pop();
        return undefined;
      }
      spec.access.push({ typeId: id, idx: i, name: m.name });
      return m.typeId;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}

/**
 * Walk the local spec's access path in target candidate `cand`
 * (bpf_core_spec_match). Returns the target spec as far as it got (libbpf
 * logs even a non-matching candidate's partial spec) and whether it matched.
 */
function matchSpec(ls: Spec, tb: Btf, cand: number, kind: CoreReloKind): { ts: Spec; ok: boolean } {
  const ts: Spec = { btf: tb, rootId: cand, access: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    const ok = kind === 'type_matches' ? typesMatch(ls.btf, ls.rootId, tb, cand) : typesCompat(ls.btf, ls.rootId, tb, cand);
    return { ts, ok };
  }
  if (isEnumvalKind(kind)) {
    const { t } = skip(tb, cand);
    if (t.kind !== 'enum' && t.kind !== 'enum64') return { ts, ok: false };
    const want = essentialName(ls.access[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return { ts, ok: false };
    ts.access.push({ typeId: cand, idx: i, name: t.values[i]!.name });
    ts.raw.push(i);
    return { ts, ok: true };
  }
  let tid = cand;
  for (let i = 0; i < ls.access.length; i++) {
    const la = ls.access[i]!;
    const cur = skip(tb, tid);
    tid = cur.id;
    if (la.name !== undefined) {
      const next = matchMember(ls, la, tb, tid, ts);
      if (next === undefined) return { ts, ok: false };
      tid = next;
    } else {
      if (i > 0) {
        if (cur.t.kind !== 'array') return { ts, ok: false };
        const prev = ts.access[ts.access.length - 1]!;
        if (!isFlexArray(tb, prev, cur.t.nelems) && la.idx >= cur.t.nelems) return { ts, ok: false };
        tid = skip(tb, cur.t.elemTypeId).id;
      }
      if (ts.raw.length >= MAX_SPEC_LEN) return { ts, ok: false };
      ts.access.push({ typeId: tid, idx: la.idx });
      ts.raw.push(la.idx);
      ts.bitOffset += la.idx * tb.sizeof(tid) * 8;
    }
  }
  return { ts, ok: true };
}

/** libbpf's names of the relocation kinds (core_relo_kind_str), as its log prints them. */
const KIND_STR: Record<CoreReloKind, string> = {
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
function formatSpec(spec: Spec, kind: CoreReloKind): string {
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

interface FieldValue {
  value: number;
  /** the field's (element's) size for load/store size adjustment (0 when not applicable) */
  size: number;
  /** the field's type id, resolved (for the size-adjustment rule) */
  typeId: number;
  /** whether the instruction must already hold the local value (not for bitfields) */
  validate: boolean;
}

/** Request to poison the instruction (libbpf's -EUCLEAN). */
const POISON = Symbol('poison');

/** bpf_core_calc_field_relo: the value of a field relocation for one side (undefined spec: no target). */
function calcField(spec: Spec | undefined, kind: CoreReloKind, endian: 'le' | 'be', fail: (errno: Errno, why: string) => never): FieldValue | typeof POISON {
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
function calcType(spec: Spec | undefined, kind: CoreReloKind): number {
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
function calcEnumval(spec: Spec | undefined, kind: CoreReloKind): number | bigint | typeof POISON {
  if (kind === 'enumval_exists') return spec ? 1 : 0;
  if (!spec) return POISON;
  const t = skip(spec.btf, spec.rootId).t;
  if (t.kind !== 'enum' && t.kind !== 'enum64') return POISON;
  return t.values[spec.access[0]!.idx]!.value;
}

/** The outcome of one relocation (libbpf's struct bpf_core_relo_res). */
export interface CoreResult {
  relo: CoreRelo;
  /** the value computed against the local (object's) BTF */
  local: number | bigint;
  /** the value against the target BTF */
  target: number | bigint;
  /** the instruction cannot be relocated: it becomes a call to an invalid helper (bpf_core_poison_insn) */
  poison: boolean;
  /** field size on each side, for load/store size adjustment (0: not applicable) */
  localSize: number;
  targetSize: number;
  /** the sizes differ and the field is neither a pointer nor unsigned: a load/store of it is poisoned */
  failMemszAdjust: boolean;
  validate: boolean;
  /** target type id the relocation resolved to (0 if none) */
  targetTypeId: number;
  /** the BTF that id is in: 'vmlinux' or a module's name (undefined if none) */
  targetBtf?: string;
}

/** A target type a relocation may resolve to: its id in `btf`, and where that BTF is from ('vmlinux' or a module's name). */
export interface CoreCand {
  btf: Btf;
  id: number;
  where: string;
}

/** Candidate lists by local root type id, shared by the relocations of one object (libbpf's cand_cache). */
export type CoreCandCache = Map<number, CoreCand[]>;

/** A kernel module's BTF: split BTF whose base is the vmlinux target (/sys/kernel/btf/<name>). */
export interface CoreModule {
  name: string;
  btf: Btf;
}

/** The modules, or a function giving them when first needed (reading them costs; most relocations find vmlinux candidates). */
export type CoreModules = readonly CoreModule[] | (() => readonly CoreModule[]);

/** What a relocation pass logs (libbpf's pr_debug/pr_warn lines, without the `libbpf: ` prefix). */
export type CoreLog = (line: string) => void;

const btfKindCompat = (a: BtfType, b: BtfType): boolean =>
  a.kind === b.kind || ((a.kind === 'enum' || a.kind === 'enum64') && (b.kind === 'enum' || b.kind === 'enum64'));

/**
 * bpf_core_find_cands / bpf_core_add_cands: target types of a compatible
 * kind (enum and enum64 interchangeable) whose essential name (before a
 * `___flavor`) equals the local root's, in id order. The local root is
 * taken as it is (a typedef root finds typedefs). As libbpf does, vmlinux
 * is searched first; only when it has none are the modules' own types
 * searched (each module's BTF is split on vmlinux, so its candidates are
 * resolved in it).
 */
function findCands(local: Btf, localId: number, target: Btf, log?: CoreLog, modules: CoreModules = []): CoreCand[] {
  const lt = local.typeById(localId);
  const ess = essentialName(lt.name);
  const out: CoreCand[] = [];
  const add = (btf: Btf, where: string, from: number): void => {
    for (const id of btf.idsByEssentialName(ess)) {
      if (id < from) continue; // a module's base types were searched as vmlinux's
      const t = btf.typeById(id);
      if (!btfKindCompat(t, lt)) continue;
      log?.(`CO-RE relocating [${localId}] ${lt.kind} ${lt.name}: found target candidate [${id}] ${t.kind} ${t.name} in [${where}]`);
      out.push({ btf, id, where });
    }
  };
  add(target, 'vmlinux', 0);
  if (out.length) return out;
  for (const m of typeof modules === 'function' ? modules() : modules) add(m.btf, m.name, m.btf.base?.types.length ?? 0);
  return out;
}

/**
 * Compute one relocation against `target`: libbpf's bpf_core_calc_relo_insn.
 * A relocation no candidate satisfies gives 0 for the existence kinds and
 * type-based kinds, and poisons the instruction otherwise; candidates that
 * disagree, a malformed access string or an anonymous root are errors.
 */
export function calcCoreRelocation(
  relo: CoreRelo,
  local: Btf,
  target: Btf,
  opts: { prog?: string; cache?: CoreCandCache; log?: CoreLog; modules?: CoreModules } = {},
): CoreResult {
  const prog = opts.prog ?? relo.func ?? '?';
  const idx = relo.reloIdx ?? 0;
  const log = opts.log;
  const at = `prog '${prog}': relo #${idx}:`;
  const fail = (errno: Errno, why: string): never => {
    log?.(`${at} ${why}`);
    throw new CoreRelocationError(relo.insnOff, relo, kindName(local.typeById(relo.typeId)), why, errno, prog);
  };
  const root = local.typeById(relo.typeId);
  steps = 0;
  // bpf_core_resolve_relo: the candidates first (cached per local type), then the relocation
  let cands = relo.kind === 'type_id_local' ? [] : opts.cache?.get(relo.typeId);
  if (!cands) {
    if (root.name === '') fail('EINVAL', `target candidate search failed for [${relo.typeId}] ${root.kind} : -22`);
    cands = findCands(local, relo.typeId, target, log, opts.modules);
    opts.cache?.set(relo.typeId, cands);
  }
  let ls: Spec;
  try {
    ls = parseSpec(local, relo);
  } catch (e) {
    if (!(e instanceof CoreRelocationError)) throw e;
    return fail('EINVAL', `parsing [${relo.typeId}] ${root.kind} ${root.name || '<anon>'} + ${relo.accessStr} failed: -22 (${e.why})`);
  }
  log?.(`${at} ${formatSpec(ls, relo.kind)}`);
  const res: CoreResult = {
    relo, local: 0, target: 0, poison: false, localSize: 0, targetSize: 0, failMemszAdjust: false, validate: true, targetTypeId: 0,
  };
  if (relo.kind === 'type_id_local') {
    // the type id in the instruction may have changed in linking: not validated
    return { ...res, local: relo.typeId, target: relo.typeId, validate: false, targetTypeId: relo.typeId };
  }
  /** bpf_core_calc_relo: both sides' values for one target spec (undefined: no target) */
  const calc = (ts: Spec | undefined, tb: Btf = target): CoreResult => {
    const r: CoreResult = { ...res };
    if (isFieldKind(relo.kind)) {
      const l = calcField(ls, relo.kind, local.endian, fail);
      if (l === POISON) return { ...r, poison: true };
      const t = calcField(ts, relo.kind, tb.endian, fail);
      if (t === POISON) return { ...r, local: l.value, validate: l.validate, poison: true };
      Object.assign(r, { local: l.value, localSize: l.size, validate: l.validate, target: t.value, targetSize: t.size });
      if (l.size !== t.size) {
        // only pointers and unsigned integers read correctly at another width
        const lt = local.typeById(l.typeId);
        const tt = tb.typeById(t.typeId);
        const unsigned = (x: BtfType): boolean => x.kind === 'int' && !x.encoding.signed;
        if (!((lt.kind === 'ptr' && tt.kind === 'ptr') || (unsigned(lt) && unsigned(tt)))) r.failMemszAdjust = true;
      }
      return r;
    }
    if (isTypeKind(relo.kind)) {
      // the target type id may change in linking: not validated
      return { ...r, local: calcType(ls, relo.kind), target: calcType(ts, relo.kind), validate: relo.kind !== 'type_id_target' };
    }
    if (isEnumvalKind(relo.kind)) {
      const l = calcEnumval(ls, relo.kind);
      const t = calcEnumval(ts, relo.kind);
      if (l === POISON || t === POISON) return { ...r, local: l === POISON ? 0 : l, poison: true };
      return { ...r, local: l, target: t };
    }
    return fail('EOPNOTSUPP', `unrecognized CO-RE relocation ${KIND_STR[relo.kind]} (${CORE_RELO_KINDS.indexOf(relo.kind)}) at insn #${relo.insnOff}`);
  };
  let result: CoreResult | undefined;
  let resultSpec: Spec | undefined;
  const kept: CoreCand[] = [];
  for (const [i, cand] of cands.entries()) {
    const { ts, ok } = matchSpec(ls, cand.btf, cand.id, relo.kind);
    log?.(`${at} ${ok ? 'matching' : 'non-matching'} candidate #${i} ${formatSpec(ts, relo.kind)}`);
    if (!ok) continue;
    const r = { ...calc(ts, cand.btf), targetTypeId: cand.id, targetBtf: cand.where };
    if (!result) {
      result = r;
      resultSpec = ts;
    } else if (ts.bitOffset !== resultSpec!.bitOffset) {
      fail('EINVAL', `field offset ambiguity: ${ts.bitOffset} != ${resultSpec!.bitOffset}`);
    } else if (r.poison !== result.poison || BigInt(r.target) !== BigInt(result.target)) {
      const word = (x: CoreResult): string => `${x.poison ? 'failure' : 'success'} ${BigInt.asUintN(64, BigInt(x.target))}`;
      fail('EINVAL', `relocation decision ambiguity: ${word(r)} != ${word(result)}`);
    }
    kept.push(cand);
  }
  // the candidates that matched are the ones later relocations of this type try (libbpf prunes its cache)
  if (kept.length && opts.cache) opts.cache.set(relo.typeId, kept);
  if (result) return result;
  log?.(`${at} no matching targets found`);
  return calc(undefined);
}

const SIZE_CODE: Record<number, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** The helper id of a poisoned instruction: 0xbad2310, "bad relo" (libbpf's bpf_core_poison_insn). */
export const POISON_HELPER_ID = 195896080;

/** Turn slot `i` into a call of the invalid helper; the verifier rejects it only if reachable. */
function poisonInsn(insns: Insn[], i: number, at: string, log?: CoreLog): void {
  log?.(`${at} substituting insn #${i} w/ invalid insn`);
  insns[i] = { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: POISON_HELPER_ID };
}

/** Patch the instruction at relo.insnOff with the relocated value (libbpf's bpf_core_patch_insn). */
function patchInsn(insns: Insn[], r: CoreResult, tn: string, prog: string, log?: CoreLog): void {
  const i = r.relo.insnOff;
  const at = `prog '${prog}': relo #${r.relo.reloIdx ?? 0}:`;
  const fail = (errno: Errno, why: string): never => {
    log?.(`${at} ${why}`);
    throw new CoreRelocationError(i, r.relo, tn, why, errno, prog);
  };
  const ins = insns[i];
  if (!ins) return fail('EINVAL', `insn #${i} is outside the program (${insns.length} insns)`);
  const poison = (): void => {
    // the second slot of an lddw too, or the verifier would complain of "unknown opcode 00"
    if (ins.code === OP_LDDW && insns[i + 1]) poisonInsn(insns, i + 1, at, log);
    poisonInsn(insns, i, at, log);
  };
  if (r.poison) return poison();
  const cls = classOf(ins.code);
  const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (sourceOf(ins.code) !== BPF_K) return fail('EINVAL', `insn #${i} (ALU/ALU64) has a register source`);
    if (r.validate && u64(ins.imm >>> 0) !== u64(r.local) && BigInt(ins.imm) !== BigInt(r.local))
      return fail('EINVAL', `unexpected insn #${i} (ALU/ALU64) value: got ${ins.imm}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    // the C code stores a u64 into a s32 immediate: it truncates
    insns[i] = { ...ins, imm: Number(BigInt.asIntN(32, BigInt(r.target))) };
    log?.(`${at} patched insn #${i} (ALU/ALU64) imm ${u64(ins.imm)} -> ${u64(r.target)}`);
    return;
  }
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) {
    if (r.validate && ins.off !== Number(r.local))
      return fail('EINVAL', `unexpected insn #${i} (LDX/ST/STX) value: got ${ins.off}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    if (u64(r.target) > 0x7fffn) return fail('ERANGE', `insn #${i} (LDX/ST/STX) value too big: ${u64(r.target)}`);
    if (r.failMemszAdjust) {
      log?.(`${at} insn #${i} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size.`);
      return poison();
    }
    const v = Number(r.target);
    let code = ins.code;
    log?.(`${at} patched insn #${i} (LDX/ST/STX) off ${ins.off} -> ${v}`);
    if (r.localSize !== r.targetSize) {
      const have = sizeBytes(sizeOf(code));
      if (have !== r.localSize) return fail('EINVAL', `insn #${i} (LDX/ST/STX) unexpected mem size: got ${have}, exp ${r.localSize}`);
      const sc = SIZE_CODE[r.targetSize];
      if (sc === undefined) return fail('EINVAL', `insn #${i} (LDX/ST/STX) invalid new mem size: ${r.targetSize}`);
      // libbpf keeps mode, size and class: BPF_MEMSX survives the resize
      code = (code & ~0x18) | sc;
      log?.(`${at} patched insn #${i} (LDX/ST/STX) mem_sz ${r.localSize} -> ${r.targetSize}`);
    }
    insns[i] = { ...ins, code, off: v };
    return;
  }
  if (ins.code === OP_LDDW) {
    const next = insns[i + 1];
    if (!next || ins.src !== 0 || ins.off !== 0 || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0)
      return fail('EINVAL', `insn #${i} (LDIMM64) has unexpected form`);
    const cur = (BigInt(next.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0);
    if (r.validate && cur !== u64(r.local)) return fail('EINVAL', `unexpected insn #${i} (LDIMM64) value: got ${cur}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    const v = u64(r.target);
    insns[i] = { ...ins, imm: Number(BigInt.asIntN(32, v & 0xffffffffn)) };
    insns[i + 1] = { ...next, imm: Number(BigInt.asIntN(32, v >> 32n)) };
    log?.(`${at} patched insn #${i} (LDIMM64) imm64 ${cur} -> ${v}`);
    return;
  }
  fail('EINVAL', `trying to relocate unrecognized insn #${i}, code:0x${ins.code.toString(16)}, src:0x${ins.src.toString(16)}, dst:0x${ins.dst.toString(16)}, off:0x${(ins.off & 0xffff).toString(16)}, imm:0x${(ins.imm >>> 0).toString(16)}`);
}

/**
 * Apply `relos` (insnOff = slot index into `insns`) against `target`, as
 * libbpf's bpf_object__relocate_core: returns the patched copy. An
 * instruction whose relocation cannot be resolved is poisoned (a call of
 * helper #195896080 that the verifier refuses only where it is reachable);
 * what libbpf refuses to relocate at all is a CoreRelocationError.
 */
export function applyCoreRelocations(
  insns: readonly Insn[],
  relos: readonly CoreRelo[],
  local: Btf,
  target: Btf,
  opts: { prog?: string; cache?: CoreCandCache; log?: CoreLog; modules?: CoreModules } = {},
): Insn[] {
  const out = insns.map((x) => ({ ...x }));
  const o = { ...opts, cache: opts.cache ?? new Map() };
  for (const relo of relos) {
    const prog = relo.func ?? opts.prog ?? '?';
    const r = calcCoreRelocation(relo, local, target, { ...o, prog });
    patchInsn(out, r, kindName(local.typeById(relo.typeId)), prog, opts.log);
  }
  return out;
}
