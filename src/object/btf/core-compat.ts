/**
 * Matching a local spec against a target type (libbpf's
 * bpf_core_spec_match): members found by name through anonymous members,
 * and the compatibility rules for fields (bpf_core_fields_are_compat),
 * types (bpf_core_types_are_compat) and `bpf_core_type_matches`
 * (bpf_core_types_match).
 */
import type { Btf } from './btf.js';
import { essentialName } from './flavor.js';
import type { CoreReloKind } from './ext.js';
import type { BtfType, StructType } from './types.js';
import { type Accessor, type Spec, MAX_DEPTH, MAX_SPEC_LEN, isTypeKind, isEnumvalKind, skip, isFlexArray, step } from './core-spec.js';

/** Compatible field types (bpf_core_fields_are_compat): same broad kind, sizes may differ. */
function fieldsCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  step('type comparison');
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
  step('type comparison');
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
  step('type comparison');
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
    step(`member search in [${id}]`);
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
export function matchSpec(ls: Spec, tb: Btf, cand: number, kind: CoreReloKind): { ts: Spec; ok: boolean } {
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
