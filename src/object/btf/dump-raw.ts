/**
 * `bpftool btf dump ... format raw`: one line per type, `[id] KIND 'name' ...`,
 * with members, values and parameters on tab-indented continuation lines.
 * The field names and their order follow bpftool's dump_btf_type() so the
 * outputs can be compared line for line.
 */
import type { Btf } from './btf.js';
import type { JsonValue } from './json.js';
import { KIND_UPPER, type BtfType } from './types.js';

const anon = (s: string): string => (s === '' ? '(anon)' : s);

function intEncoding(t: Extract<BtfType, { kind: 'int' }>): string {
  const e = t.encoding;
  const n = (e.signed ? 1 : 0) | (e.char ? 2 : 0) | (e.bool ? 4 : 0);
  switch (n) {
    case 0:
      return '(none)';
    case 1:
      return 'SIGNED';
    case 2:
      return 'CHAR';
    case 4:
      return 'BOOL';
    default:
      return 'UNKN';
  }
}

/** One type in bpftool's plain-text form (may span several lines, no trailing newline). */
export function formatRawType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${KIND_UPPER[t.kind]} '${anon(t.name)}'`;
  switch (t.kind) {
    case 'void':
      break;
    case 'int':
      s += ` size=${t.size} bits_offset=${t.offset} nr_bits=${t.bits} encoding=${intEncoding(t)}`;
      break;
    case 'ptr':
    case 'typedef':
    case 'volatile':
    case 'const':
    case 'restrict':
    case 'type_tag':
      s += ` type_id=${t.typeId}`;
      break;
    case 'array':
      s += ` type_id=${t.elemTypeId} index_type_id=${t.indexTypeId} nr_elems=${t.nelems}`;
      break;
    case 'struct':
    case 'union':
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${anon(m.name)}' type_id=${m.typeId} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case 'enum':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}`;
      break;
    case 'enum64':
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anon(v.name)}' val=${v.value}${t.signed ? 'LL' : 'ULL'}`;
      break;
    case 'fwd':
      s += ` fwd_kind=${t.union ? 'union' : 'struct'}`;
      break;
    case 'func':
      s += ` type_id=${t.typeId} linkage=${t.linkage}`;
      break;
    case 'func_proto':
      s += ` ret_type_id=${t.returnTypeId} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${anon(p.name)}' type_id=${p.typeId}`;
      break;
    case 'var':
      s += ` type_id=${t.typeId}, linkage=${t.linkage}`;
      break;
    case 'datasec':
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        const vt = btf.types[v.typeId];
        s += `\n\ttype_id=${v.typeId} offset=${v.offset} size=${v.size}`;
        if (vt) s += ` (${KIND_UPPER[vt.kind]} '${anon(vt.name)}')`;
      }
      break;
    case 'float':
      s += ` size=${t.size}`;
      break;
    case 'decl_tag':
      s += ` type_id=${t.typeId} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}

/** The whole BTF as `bpftool btf dump file X format raw` prints it. */
export function dumpRaw(btf: Btf, ids?: Iterable<number>): string {
  const out: string[] = [];
  const first = btf.base ? btf.base.types.length : 1;
  const list = ids ?? range(first, btf.types.length);
  for (const id of list) out.push(formatRawType(btf, btf.typeById(id)));
  return out.length ? out.join('\n') + '\n' : '';
}

function* range(a: number, b: number): Iterable<number> {
  for (let i = a; i < b; i++) yield i;
}

/** One type as bpftool's `-j` output describes it. */
function rawTypeJson(t: BtfType): { [k: string]: JsonValue } {
  const o: { [k: string]: JsonValue } = { id: t.id, kind: KIND_UPPER[t.kind], name: anon(t.name) };
  switch (t.kind) {
    case 'void':
      break;
    case 'int':
      Object.assign(o, { size: t.size, bits_offset: t.offset, nr_bits: t.bits, encoding: intEncoding(t) });
      break;
    case 'ptr':
    case 'typedef':
    case 'volatile':
    case 'const':
    case 'restrict':
    case 'type_tag':
      o.type_id = t.typeId;
      break;
    case 'array':
      Object.assign(o, { type_id: t.elemTypeId, index_type_id: t.indexTypeId, nr_elems: t.nelems });
      break;
    case 'struct':
    case 'union':
      Object.assign(o, {
        size: t.size,
        vlen: t.members.length,
        members: t.members.map((m) => {
          const mo: { [k: string]: JsonValue } = { name: anon(m.name), type_id: m.typeId, bits_offset: m.bitOffset };
          if (m.bitfieldSize) mo.bitfield_size = m.bitfieldSize;
          return mo;
        }),
      });
      break;
    case 'enum':
    case 'enum64':
      Object.assign(o, {
        encoding: t.signed ? 'SIGNED' : 'UNSIGNED',
        size: t.size,
        vlen: t.values.length,
        // bpftool widens the 32-bit value through its signed storage type
        // (struct btf_enum's __s32 val), so unsigned values >= 2^31 print
        // sign-extended to 64 bits in JSON; we print what bpftool prints.
        values: t.values.map((v) => ({
          name: anon(v.name),
          val: t.kind === 'enum' && !t.signed && v.value >= 0x80000000 ? BigInt.asUintN(64, BigInt((v.value as number) | 0)) : v.value,
        })),
      });
      break;
    case 'fwd':
      o.fwd_kind = t.union ? 'union' : 'struct';
      break;
    case 'func':
    case 'var':
      Object.assign(o, { type_id: t.typeId, linkage: t.linkage });
      break;
    case 'func_proto':
      Object.assign(o, {
        ret_type_id: t.returnTypeId,
        vlen: t.params.length,
        params: t.params.map((p) => ({ name: anon(p.name), type_id: p.typeId })),
      });
      break;
    case 'datasec':
      Object.assign(o, {
        size: t.size,
        vlen: t.vars.length,
        vars: t.vars.map((v) => ({ type_id: v.typeId, offset: v.offset, size: v.size })),
      });
      break;
    case 'float':
      o.size = t.size;
      break;
    case 'decl_tag':
      Object.assign(o, { type_id: t.typeId, component_idx: t.componentIdx });
      break;
  }
  return o;
}

export function dumpRawJson(btf: Btf): { types: JsonValue[] } {
  const first = btf.base ? btf.base.types.length : 1;
  const types: JsonValue[] = [];
  for (let id = first; id < btf.types.length; id++) types.push(rawTypeJson(btf.types[id]!));
  return { types };
}
