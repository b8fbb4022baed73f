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
import type { CoreRelo, CoreReloKind } from './ext.js';
import type { BtfType, StructType } from './types.js';
import type { Insn } from '../../isa/insn.js';
import { classOf, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_ALU64, BPF_K, sourceOf, sizeOf, sizeBytes, modeOf, BPF_MEM, BPF_MEMSX, BPF_B, BPF_H, BPF_W, BPF_DW, OP_LDDW } from '../../isa/opcodes.js';

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
    reason: string,
  ) {
    super(-1, `CO-RE relocation #insn ${insnOff} (${relo.kind}) of ${typeName}, access "${relo.accessStr}": ${reason}`, 'ENOENT');
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

/**
 * The name without a `___flavor` suffix: `task_struct___old` -> `task_struct`.
 * The separator is three underscores neither preceded nor followed by another.
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name.startsWith('___', i + 1) && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
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

/** Walk the local spec's access path in target candidate `cand` (bpf_core_spec_match). */
function matchSpec(ls: Spec, tb: Btf, cand: number, kind: CoreReloKind): Spec | undefined {
  const ts: Spec = { btf: tb, rootId: cand, access: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    const ok = kind === 'type_matches' ? typesMatch(ls.btf, ls.rootId, tb, cand) : typesCompat(ls.btf, ls.rootId, tb, cand);
    return ok ? ts : undefined;
  }
  if (isEnumvalKind(kind)) {
    const { t } = skip(tb, cand);
    if (t.kind !== 'enum' && t.kind !== 'enum64') return undefined;
    const want = essentialName(ls.access[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    ts.access.push({ typeId: cand, idx: i, name: t.values[i]!.name });
    ts.raw.push(i);
    return ts;
  }
  let tid = cand;
  for (let i = 0; i < ls.access.length; i++) {
    const la = ls.access[i]!;
    const cur = skip(tb, tid);
    tid = cur.id;
    if (la.name !== undefined) {
      const next = matchMember(ls, la, tb, tid, ts);
      if (next === undefined) return undefined;
      tid = next;
    } else {
      if (i > 0) {
        if (cur.t.kind !== 'array') return undefined;
        const prev = ts.access[ts.access.length - 1]!;
        if (!isFlexArray(tb, prev, cur.t.nelems) && la.idx >= cur.t.nelems) return undefined;
        tid = skip(tb, cur.t.elemTypeId).id;
      }
      if (ts.raw.length >= MAX_SPEC_LEN) return undefined;
      ts.access.push({ typeId: tid, idx: la.idx });
      ts.raw.push(la.idx);
      ts.bitOffset += la.idx * tb.sizeof(tid) * 8;
    }
  }
  return ts;
}

interface FieldValue {
  value: number;
  /** the field's size for load/store size adjustment (0 when not applicable) */
  size: number;
  /** whether the instruction must already hold the local value (not for bitfields) */
  validate: boolean;
}

/** bpf_core_calc_field_relo: the value of a field relocation for one side. */
function calcField(spec: Spec, kind: CoreReloKind, endian: 'le' | 'be'): FieldValue {
  const btf = spec.btf;
  const acc = spec.access[spec.access.length - 1]!;
  if (kind === 'field_exists') return { value: 1, size: 0, validate: true };
  if (acc.name === undefined) {
    // array element (or the root itself)
    const sz = btf.sizeof(acc.typeId);
    if (kind === 'field_byte_offset') return { value: spec.bitOffset / 8, size: sz, validate: true };
    if (kind === 'field_byte_size') return { value: sz, size: 0, validate: true };
    throw new BtfError(-1, `CO-RE: ${kind} cannot be applied to an array element`);
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
      if (byteSz >= 8) throw new BtfError(-1, 'CO-RE: bitfield cannot be read with a 64-bit load');
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
      return { value: byteOff, size: bitfield ? 0 : byteSz, validate: !bitfield };
    case 'field_byte_size':
      return { value: byteSz, size: 0, validate: !bitfield };
    case 'field_signed': {
      const t = mt.t;
      const signed = ((t.kind === 'enum' || t.kind === 'enum64') && t.signed) || (t.kind === 'int' && t.encoding.signed);
      return { value: signed ? 1 : 0, size: 0, validate: true };
    }
    case 'field_lshift_u64':
      return {
        value: endian === 'le' ? 64 - (bitOff + bitSz - byteOff * 8) : (8 - byteSz) * 8 + (bitOff - byteOff * 8),
        size: 0,
        validate: !bitfield,
      };
    case 'field_rshift_u64':
      return { value: 64 - bitSz, size: 0, validate: true };
    default:
      throw new BtfError(-1, `CO-RE: ${kind} is not a field relocation`);
  }
}

function calcType(spec: Spec | undefined, kind: CoreReloKind): number | bigint {
  if (!spec) return 0;
  switch (kind) {
    case 'type_id_local':
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

function calcEnumval(spec: Spec | undefined, kind: CoreReloKind): number | bigint | undefined {
  if (kind === 'enumval_exists') return spec ? 1 : 0;
  if (!spec) return undefined;
  const t = skip(spec.btf, spec.rootId).t;
  if (t.kind !== 'enum' && t.kind !== 'enum64') return undefined;
  return t.values[spec.access[0]!.idx]!.value;
}

/** The outcome of one relocation: the value compiled in and the one for the target. */
export interface CoreResult {
  relo: CoreRelo;
  /** the value computed against the local (object's) BTF */
  local: number | bigint;
  /** the value against the target BTF */
  target: number | bigint;
  /** field size on each side, for load/store size adjustment (0: not applicable) */
  localSize: number;
  targetSize: number;
  validate: boolean;
  /** target type id the relocation resolved to (0 if none) */
  targetTypeId: number;
}

/** Compute one relocation against `target` (libbpf's bpf_core_calc_relo_insn, minus the patching). */
export function calcCoreRelocation(relo: CoreRelo, local: Btf, target: Btf): CoreResult {
  const root = local.typeById(relo.typeId);
  const tn = kindName(root);
  steps = 0;
  const ls = parseSpec(local, relo);
  if (relo.kind === 'type_id_local') {
    return { relo, local: relo.typeId, target: relo.typeId, localSize: 0, targetSize: 0, validate: true, targetTypeId: relo.typeId };
  }
  const rootName = skip(local, relo.typeId).t.name || root.name;
  if (rootName === '') throw new CoreRelocationError(relo.insnOff, relo, tn, 'the root type is anonymous; CO-RE needs a named type');
  const ess = essentialName(rootName);
  const localKind = skip(local, relo.typeId).t.kind;
  // candidates: same essential name, same kind (enum and enum64 interchangeable)
  const cands: number[] = [];
  for (const t of target.types) {
    if (t.name === '' || essentialName(t.name) !== ess) continue;
    const same = t.kind === localKind || ((t.kind === 'enum' || t.kind === 'enum64') && (localKind === 'enum' || localKind === 'enum64'));
    if (same) cands.push(t.id);
  }
  let result: CoreResult | undefined;
  const endian = target.endian;
  const localVal = (): { v: number | bigint; size: number; validate: boolean } => {
    if (isFieldKind(relo.kind)) {
      const f = calcField(ls, relo.kind, local.endian);
      return { v: f.value, size: f.size, validate: f.validate };
    }
    if (isTypeKind(relo.kind)) return { v: calcType(ls, relo.kind), size: 0, validate: true };
    return { v: calcEnumval(ls, relo.kind) ?? 0, size: 0, validate: true };
  };
  const lv = localVal();
  for (const cand of cands) {
    const ts = matchSpec(ls, target, cand, relo.kind);
    if (!ts) continue;
    let tv: number | bigint;
    let tsize = 0;
    if (isFieldKind(relo.kind)) {
      const f = calcField(ts, relo.kind, endian);
      tv = f.value;
      tsize = f.size;
    } else if (isTypeKind(relo.kind)) tv = calcType(ts, relo.kind);
    else tv = calcEnumval(ts, relo.kind)!;
    const r: CoreResult = { relo, local: lv.v, target: tv, localSize: lv.size, targetSize: tsize, validate: lv.validate, targetTypeId: cand };
    if (result) {
      // several flavors may match, but they must agree on the answer
      if (result.target !== r.target || result.targetSize !== r.targetSize)
        throw new CoreRelocationError(relo.insnOff, relo, tn, `ambiguous: candidates [${result.targetTypeId}] and [${cand}] give ${result.target} and ${r.target}`);
      // type_id_target must name one type
      if (relo.kind === 'type_id_target' && result.targetTypeId !== cand)
        throw new CoreRelocationError(relo.insnOff, relo, tn, `ambiguous: several target types match`);
      continue;
    }
    result = r;
  }
  if (result) return result;
  // nothing matched: existence checks say "no"; the rest cannot be computed
  if (relo.kind === 'field_exists' || relo.kind === 'type_exists' || relo.kind === 'type_matches' || relo.kind === 'enumval_exists' || relo.kind === 'type_id_target' || relo.kind === 'type_size')
    return { relo, local: lv.v, target: 0, localSize: 0, targetSize: 0, validate: lv.validate, targetTypeId: 0 };
  const why = cands.length === 0 ? `no ${localKind} '${ess}' in the target BTF` : `no matching field in the ${cands.length} target candidate(s)`;
  throw new CoreRelocationError(relo.insnOff, relo, tn, `${why}; tsbpf cannot relocate it`);
}

const SIZE_CODE: Record<number, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** Patch the instruction at relo.insnOff with the relocated value (bpf_core_patch_insn). */
function patchInsn(insns: Insn[], r: CoreResult, tn: string): void {
  const i = r.relo.insnOff;
  const ins = insns[i];
  const fail = (why: string): never => {
    throw new CoreRelocationError(i, r.relo, tn, why);
  };
  if (!ins) fail(`instruction ${i} is outside the program (${insns.length} slots)`);
  const cls = classOf(ins!.code);
  const localNum = Number(r.local);
  if (ins!.code === OP_LDDW) {
    const next = insns[i + 1];
    if (!next) fail('lddw without its second slot');
    const cur = (BigInt(next!.imm >>> 0) << 32n) | BigInt(ins!.imm >>> 0);
    if (r.validate && cur !== BigInt.asUintN(64, BigInt(r.local))) fail(`lddw holds ${cur}, expected the local value ${r.local}`);
    const v = BigInt.asUintN(64, BigInt(r.target));
    insns[i] = { ...ins!, imm: Number(BigInt.asIntN(32, v & 0xffffffffn)) };
    insns[i + 1] = { ...next!, imm: Number(BigInt.asIntN(32, v >> 32n)) };
    return;
  }
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (sourceOf(ins!.code) !== BPF_K) fail('ALU instruction with a register source cannot carry a relocated value');
    if (r.validate && ins!.imm !== localNum) fail(`instruction holds imm ${ins!.imm}, expected the local value ${r.local}`);
    const v = BigInt(r.target);
    if (v > 0xffffffffn || v < -0x80000000n) fail(`value ${v} does not fit a 32-bit immediate`);
    insns[i] = { ...ins!, imm: Number(BigInt.asIntN(32, v)) };
    return;
  }
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) {
    if (r.validate && ins!.off !== localNum) fail(`instruction holds offset ${ins!.off}, expected the local value ${r.local}`);
    const v = Number(r.target);
    if (v > 0x7fff) fail(`offset ${v} does not fit the 16-bit offset field`);
    let code = ins!.code;
    if (r.localSize && r.targetSize && r.localSize !== r.targetSize) {
      // the field changed size: load/store the target's width (only plain memory accesses)
      const mode = modeOf(code);
      if (mode !== BPF_MEM && mode !== BPF_MEMSX) fail('field size changed for an atomic access');
      if (sizeBytes(sizeOf(code)) !== r.localSize) fail(`access size ${sizeBytes(sizeOf(code))} differs from the field size ${r.localSize}`);
      const sc = SIZE_CODE[r.targetSize];
      if (sc === undefined) fail(`target field size ${r.targetSize} cannot be loaded in one instruction`);
      code = (code & ~0x18) | sc!;
    }
    insns[i] = { ...ins!, code, off: v };
    return;
  }
  if (cls === BPF_LD) fail('legacy packet access cannot be relocated');
  fail(`instruction class 0x${cls.toString(16)} cannot be relocated`);
}

/**
 * Apply `relos` (insnOff = slot index into `insns`) against `target`;
 * returns the patched copy. A relocation whose target type tsbpf does not
 * know is a CoreRelocationError naming the type and access string.
 */
export function applyCoreRelocations(insns: readonly Insn[], relos: readonly CoreRelo[], local: Btf, target: Btf): Insn[] {
  const out = insns.map((x) => ({ ...x }));
  for (const relo of relos) {
    const r = calcCoreRelocation(relo, local, target);
    patchInsn(out, r, kindName(local.typeById(relo.typeId)));
  }
  return out;
}
