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

/**
 * Extern declarations as the kernel accepts them (libbpf's
 * bpf_object__collect_externs and btf_fixup_datasec): the kernel refuses
 * extern linkage, so extern FUNCs (kfuncs) become global and extern VARs
 * global variables; `.kconfig`'s vars get the offsets the object layer laid
 * the map out with (`kconfig.externs`) and the map's size; `.ksyms` gets one
 * 4-byte int VAR per entry (a function cannot sit in a DATASEC), 4 bytes
 * apart, as libbpf's dummy variables.
 */
export function fixExterns(btf: Btf, kconfig: { valueSize: number; externs?: Array<{ name: string; offset: number }> } | undefined): Btf {
  const types = btf.types.slice();
  const has = types.some((t) => (t.kind === 'func' || t.kind === 'var') && t.linkage === 'extern');
  if (!has) return btf;
  let int4 = types.find((t) => t.kind === 'int' && t.size === 4 && t.bits === 32)?.id;
  if (int4 === undefined) {
    int4 = types.length;
    types.push({ id: int4, kind: 'int', name: 'int', size: 4, encoding: { signed: true, char: false, bool: false }, bits: 32, offset: 0 });
  }
  for (let i = 1; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind === 'func' && t.linkage === 'extern') types[i] = { ...t, linkage: 'global' };
    if (t.kind === 'var' && t.linkage === 'extern') types[i] = { ...t, linkage: 'global' };
  }
  const offsets = new Map((kconfig?.externs ?? []).map((e) => [e.name, e.offset]));
  for (let i = 1; i < types.length; i++) {
    const t = types[i]!;
    if (t.kind !== 'datasec') continue;
    if (t.name === '.kconfig') {
      const vars = t.vars.map((v) => ({ ...v, offset: offsets.get(types[v.typeId]!.name) ?? v.offset }));
      vars.sort((a, b) => a.offset - b.offset);
      types[i] = { ...t, size: kconfig?.valueSize ?? t.size, vars };
    } else if (t.name === '.ksyms') {
      const vars = t.vars.map((v, k) => {
        let id = v.typeId;
        const target = types[id]!;
        if (target.kind === 'func') {
          id = types.length;
          types.push({ id, kind: 'var', name: target.name, typeId: int4!, linkage: 'global' });
        } else if (target.kind === 'var') {
          types[id] = { ...target, typeId: int4! };
        }
        return { typeId: id, offset: 4 * k, size: 4 };
      });
      types[i] = { ...t, size: 4 * vars.length, vars };
    }
  }
  return Btf.fromTypes(types);
}
