/**
 * One `struct btf_type` record of a BTF type section and the kind-specific
 * data after it (include/uapi/linux/btf.h), checked as the kernel's
 * btf_check_meta / the per-kind check_meta callbacks of kernel/bpf/btf.c do.
 *
 * The same walk serves two uses, so the rules and their messages live once:
 *  - `recordEnd` validates a record and returns where the next one starts,
 *    allocating nothing and decoding no string: the one pass `Btf.parse`
 *    makes over the whole type section (vmlinux: ~126k records);
 *  - `decodeRecord` builds the `BtfType` of one record, on first use of
 *    its id (`Btf.typeById`).
 */
import { BtfError } from './error.js';
import type { BtfStrings } from './strings.js';
import { BTF_KIND, type BtfKind, type BtfType, type FuncLinkage, type Member, type VarLinkage } from './types.js';

export const TYPE_SIZE = 12;

const KIND_BY_NUMBER: (BtfKind | undefined)[] = [];
for (const [name, n] of Object.entries(BTF_KIND)) if (name !== 'unkn') KIND_BY_NUMBER[n] = name as BtfKind;

export const FUNC_LINKAGE: FuncLinkage[] = ['static', 'global', 'extern'];
export const VAR_LINKAGE: VarLinkage[] = ['static', 'global', 'extern'];

/** The type section being read. */
export interface TypeSection {
  readonly dv: DataView;
  readonly le: boolean;
  /** end of the type section in the blob */
  readonly end: number;
  readonly strings: BtfStrings;
}

const intSizeOk = (s: number): boolean => s === 1 || s === 2 || s === 4 || s === 8 || s === 16;
const enumSizeOk = (s: number): boolean => s === 1 || s === 2 || s === 4 || s === 8;
const floatSizeOk = (s: number): boolean => s === 2 || s === 4 || s === 8 || s === 12 || s === 16;

/** The type the last `walk(..., true)` built (one slot: the walk is synchronous). */
let built: BtfType | undefined;

/** Validate the record of type `id` at `p`; the offset of the next record. */
export function recordEnd(s: TypeSection, p: number, id: number): number {
  return walk(s, p, id, false);
}

/** The type the (already validated) record at `p` describes. */
export function decodeRecord(s: TypeSection, p: number, id: number): BtfType {
  walk(s, p, id, true);
  const t = built!;
  built = undefined;
  return t;
}

function need(end: number, p: number, n: number, what: string): void {
  if (end - p < n) throw new BtfError(p, `truncated ${what}: need ${n} bytes, ${end - p} left in the type section`);
}

/**
 * A name offset is checked always; the string is decoded only when built
 * (the section ends with a NUL, so every offset inside it starts a string).
 */
function nameAt(strings: BtfStrings, off: number, at: number, build: boolean): string {
  if (!strings.valid(off)) throw new BtfError(at, `name offset ${off} outside the string section (${strings.length} bytes)`);
  return build ? strings.at(off) : '';
}

// No closures in here: this runs once per type of every BTF parsed.
function walk(s: TypeSection, start: number, id: number, build: boolean): number {
  const { dv, le, end, strings } = s;
  let p = start;
  need(end, p, TYPE_SIZE, 'type header');
  const nameOff = dv.getUint32(p, le);
  const info = dv.getUint32(p + 4, le);
  const sizeOrType = dv.getUint32(p + 8, le);
  const vlen = info & 0xffff;
  const kindNo = (info >>> 24) & 0x1f;
  const kindFlag = info >>> 31 === 1;
  if ((info & 0x60ff0000) !== 0) throw new BtfError(p + 4, `type [${id}]: reserved info bits set (0x${(info >>> 0).toString(16)})`);
  const kind = KIND_BY_NUMBER[kindNo];
  if (!kind || kind === 'void') throw new BtfError(p + 4, `type [${id}]: unknown kind ${kindNo}`);
  const tname = nameAt(strings, nameOff, p, build);
  p += TYPE_SIZE;
  if (vlen !== 0 && (kind === 'int' || kind === 'array' || kind === 'fwd' || kind === 'var' || kind === 'float' || kind === 'decl_tag' || kind === 'ptr' || kind === 'typedef' || kind === 'volatile' || kind === 'const' || kind === 'restrict' || kind === 'type_tag'))
    throw new BtfError(start + 4, `type [${id}] ${kind}: vlen ${vlen} must be 0`);
  if (kindFlag && kind !== 'typedef' && kind !== 'type_tag' && kind !== 'struct' && kind !== 'union' && kind !== 'enum' && kind !== 'enum64' && kind !== 'fwd' && kind !== 'decl_tag')
    throw new BtfError(start + 4, `type [${id}] ${kind}: kind_flag must be 0`);
  switch (kind) {
    case 'int': {
      need(end, p, 4, 'int data');
      const data = dv.getUint32(p, le);
      p += 4;
      const encoding = (data >>> 24) & 0x0f;
      const offset = (data >>> 16) & 0xff;
      const bits = data & 0xff;
      if ((data & 0xf0000000) !== 0 || (data & 0xff00) !== 0) throw new BtfError(p - 4, `type [${id}] int: reserved bits set`);
      if (!intSizeOk(sizeOrType)) throw new BtfError(start + 8, `type [${id}] int: invalid size ${sizeOrType}`);
      if (bits === 0 || bits > 128 || offset + bits > sizeOrType * 8)
        throw new BtfError(p - 4, `type [${id}] int: ${bits} bits at offset ${offset} do not fit ${sizeOrType} bytes`);
      // The kernel allows at most one encoding bit (btf_int_check_meta).
      if (encoding !== 0 && encoding !== 1 && encoding !== 2 && encoding !== 4)
        throw new BtfError(p - 4, `type [${id}] int: invalid encoding ${encoding}`);
      if (build)
        built = {
          id,
          kind,
          name: tname,
          size: sizeOrType,
          encoding: { signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0 },
          bits,
          offset,
        };
      return p;
    }
    case 'ptr':
    case 'typedef':
    case 'volatile':
    case 'const':
    case 'restrict':
    case 'type_tag':
      if (build) built = { id, kind, name: tname, typeId: sizeOrType };
      return p;
    case 'array':
      need(end, p, 12, 'array data');
      if (build) built = { id, kind, name: tname, elemTypeId: dv.getUint32(p, le), indexTypeId: dv.getUint32(p + 4, le), nelems: dv.getUint32(p + 8, le) };
      return p + 12;
    case 'struct':
    case 'union': {
      need(end, p, 12 * vlen, `${kind} members`);
      const members: Member[] | undefined = build ? new Array(vlen) : undefined;
      for (let i = 0; i < vlen; i++, p += 12) {
        const mname = nameAt(strings, dv.getUint32(p, le), p, build);
        const off = dv.getUint32(p + 8, le);
        const bitOffset = kindFlag ? off & 0xffffff : off;
        const bitfieldSize = kindFlag ? off >>> 24 : 0;
        if (bitOffset + bitfieldSize > sizeOrType * 8)
          throw new BtfError(p + 8, `type [${id}] ${kind}: member '${strings.at(dv.getUint32(p, le))}' at bit ${bitOffset} lies outside the ${sizeOrType}-byte ${kind}`);
        if (members) members[i] = { name: mname, typeId: dv.getUint32(p + 4, le), bitOffset, bitfieldSize };
      }
      if (build) built = { id, kind, name: tname, size: sizeOrType, members: members!, kindFlag };
      return p;
    }
    case 'enum': {
      need(end, p, 8 * vlen, 'enum values');
      if (!enumSizeOk(sizeOrType)) throw new BtfError(start + 8, `type [${id}] enum: invalid size ${sizeOrType}`);
      const values = build ? new Array(vlen) : undefined;
      for (let i = 0; i < vlen; i++, p += 8) {
        const vname = nameAt(strings, dv.getUint32(p, le), p, build);
        if (values) values[i] = { name: vname, value: kindFlag ? dv.getInt32(p + 4, le) : dv.getUint32(p + 4, le) };
      }
      if (build) built = { id, kind, name: tname, size: sizeOrType, signed: kindFlag, values: values! };
      return p;
    }
    case 'enum64': {
      need(end, p, 12 * vlen, 'enum64 values');
      if (!enumSizeOk(sizeOrType)) throw new BtfError(start + 8, `type [${id}] enum64: invalid size ${sizeOrType}`);
      const values = build ? new Array(vlen) : undefined;
      for (let i = 0; i < vlen; i++, p += 12) {
        const vname = nameAt(strings, dv.getUint32(p, le), p, build);
        if (values) {
          const v = (BigInt(dv.getUint32(p + 8, le)) << 32n) | BigInt(dv.getUint32(p + 4, le));
          values[i] = { name: vname, value: kindFlag ? BigInt.asIntN(64, v) : v };
        }
      }
      if (build) built = { id, kind, name: tname, size: sizeOrType, signed: kindFlag, values: values! };
      return p;
    }
    case 'fwd':
      if (build) built = { id, kind, name: tname, union: kindFlag };
      return p;
    case 'func':
      if (vlen > 2) throw new BtfError(start + 4, `type [${id}] func: invalid linkage ${vlen}`);
      if (build) built = { id, kind, name: tname, typeId: sizeOrType, linkage: FUNC_LINKAGE[vlen]! };
      return p;
    case 'func_proto': {
      need(end, p, 8 * vlen, 'func_proto params');
      const params = build ? new Array(vlen) : undefined;
      for (let i = 0; i < vlen; i++, p += 8) {
        const pname = nameAt(strings, dv.getUint32(p, le), p, build);
        if (params) params[i] = { name: pname, typeId: dv.getUint32(p + 4, le) };
      }
      if (build) built = { id, kind, name: tname, returnTypeId: sizeOrType, params: params! };
      return p;
    }
    case 'var': {
      need(end, p, 4, 'var data');
      const linkage = dv.getUint32(p, le);
      if (linkage > 2) throw new BtfError(p, `type [${id}] var: invalid linkage ${linkage}`);
      if (build) built = { id, kind, name: tname, typeId: sizeOrType, linkage: VAR_LINKAGE[linkage]! };
      return p + 4;
    }
    case 'datasec': {
      need(end, p, 12 * vlen, 'datasec vars');
      if (build) {
        const vars = new Array(vlen);
        for (let i = 0; i < vlen; i++) vars[i] = { typeId: dv.getUint32(p + 12 * i, le), offset: dv.getUint32(p + 12 * i + 4, le), size: dv.getUint32(p + 12 * i + 8, le) };
        built = { id, kind, name: tname, size: sizeOrType, vars };
      }
      return p + 12 * vlen;
    }
    case 'float':
      if (!floatSizeOk(sizeOrType)) throw new BtfError(start + 8, `type [${id}] float: invalid size ${sizeOrType}`);
      if (build) built = { id, kind, name: tname, size: sizeOrType };
      return p;
    case 'decl_tag':
      need(end, p, 4, 'decl_tag data');
      if (build) built = { id, kind, name: tname, typeId: sizeOrType, componentIdx: dv.getInt32(p, le) };
      return p + 4;
  }
}
