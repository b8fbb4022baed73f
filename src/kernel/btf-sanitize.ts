/**
 * Rewriting an object's BTF into what the running kernel accepts, as
 * libbpf's bpf_object__sanitize_btf does: each kind (or trait) the kernel
 * lacks is replaced by an older one of the same size and shape, so type ids
 * stay where they are and the maps' key/value ids still point at the same
 * types. Pure over the Btf model: no system calls (probes live in probe.ts).
 */
import { Btf, type BtfType } from '../object/btf/index.js';

/** What the kernel's BTF loader knows (probe.ts fills it in). */
export interface BtfFeatures {
  func: boolean;
  funcGlobal: boolean;
  datasec: boolean;
  float: boolean;
  declTag: boolean;
  typeTag: boolean;
  enum64: boolean;
}

export const ALL_BTF_FEATURES: BtfFeatures = { func: true, funcGlobal: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true };

/**
 * The sanitised copy of `btf` (or `btf` itself when nothing needs changing).
 * The replacements follow libbpf's choices:
 *  - VAR without DATASEC support -> INT of 1 byte; DATASEC -> STRUCT whose
 *    members are the vars, at their offsets;
 *  - FUNC_PROTO without FUNC support -> ENUM with as many values as params;
 *    FUNC -> TYPEDEF; global FUNC without support -> static;
 *  - FLOAT -> an anonymous STRUCT of the same size; DECL_TAG -> INT of 1 byte;
 *    TYPE_TAG -> CONST; ENUM64 -> UNION of 8-byte members (and signed ENUM
 *    loses kind_flag).
 */
export function sanitizeBtf(btf: Btf, f: BtfFeatures): Btf {
  const types = btf.types;
  let changed = false;
  const out: BtfType[] = types.map((t) => {
    const n = sanitizeType(btf, t, f, types);
    if (n !== t) changed = true;
    return n;
  });
  if (!changed) return btf;
  return Btf.fromTypes(out);
}

function int1(t: BtfType): BtfType {
  return { id: t.id, kind: 'int', name: '', size: 1, encoding: { signed: false, char: false, bool: false }, bits: 8, offset: 0 };
}

function sanitizeType(btf: Btf, t: BtfType, f: BtfFeatures, types: readonly BtfType[]): BtfType {
  switch (t.kind) {
    case 'var':
      return f.datasec ? t : int1(t);
    case 'datasec':
      if (f.datasec) return t;
      return {
        id: t.id,
        kind: 'struct',
        // libbpf keeps the name but the old kernels refuse '.': it becomes '_'
        name: t.name.replace(/\./g, '_'),
        size: t.size,
        kindFlag: false,
        members: t.vars.map((v) => ({ name: types[v.typeId]?.name.replace(/\./g, '_') ?? '', typeId: (types[v.typeId] as { typeId?: number } | undefined)?.typeId ?? v.typeId, bitOffset: v.offset * 8, bitfieldSize: 0 })),
      };
    case 'func_proto':
      if (f.func) return t;
      return { id: t.id, kind: 'enum', name: '', size: 4, signed: false, values: t.params.map((p, i) => ({ name: p.name || `p${i}`, value: 0 })) };
    case 'func':
      if (!f.func) return { id: t.id, kind: 'typedef', name: t.name, typeId: t.typeId };
      if (!f.funcGlobal && t.linkage === 'global') return { ...t, linkage: 'static' };
      return t;
    case 'float':
      return f.float ? t : { id: t.id, kind: 'struct', name: '', size: t.size, kindFlag: false, members: [] };
    case 'decl_tag':
      return f.declTag ? t : int1(t);
    case 'type_tag':
      return f.typeTag ? t : { id: t.id, kind: 'const', name: '', typeId: t.typeId };
    case 'enum':
      return f.enum64 || !t.signed ? t : { ...t, signed: false };
    case 'enum64':
      if (f.enum64) return t;
      const u64 = u64Type(btf);
      return {
        id: t.id,
        kind: 'union',
        name: t.name,
        size: t.size,
        kindFlag: false,
        members: u64 ? t.values.map((v) => ({ name: v.name, typeId: u64, bitOffset: 0, bitfieldSize: 0 })) : [],
      };
    default:
      return t;
  }
}

/** libbpf points sanitised ENUM64 members at an 8-byte int; any 8-byte INT in the object does (else the union is left empty). */
function u64Type(btf: Btf): number {
  const t = btf.types.find((x) => x.kind === 'int' && x.size === 8);
  return t?.id ?? 0;
}
