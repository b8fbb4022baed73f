/**
 * BTF: the BPF Type Format (Documentation/bpf/btf.rst, include/uapi/linux/btf.h).
 *
 * A blob is a header, a type section (a sequence of `struct btf_type`, each
 * followed by kind-specific data) and a string section. Type ids are
 * positions in the type section starting at 1; id 0 is `void`.
 *
 * Everything is validated as the kernel's btf_parse() would before it is
 * trusted: the header fields, every section bound, every name offset and
 * every type reference. Walks over references (resolve, sizeof, alignof) are
 * depth-limited like libbpf's MAX_RESOLVE_DEPTH, so a cycle in a corrupted
 * blob is an error rather than a hang.
 */
import { BtfError } from './error.js';
import { essentialName } from './flavor.js';
import { BtfStrings, StringTableBuilder } from './strings.js';
import {
  BTF_KIND,
  MODIFIER_KINDS,
  type BtfKind,
  type BtfType,
  type FuncLinkage,
  type Member,
  type VarLinkage,
} from './types.js';

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
const HEADER_SIZE = 24;
const TYPE_SIZE = 12;
/** libbpf's MAX_RESOLVE_DEPTH: longer reference chains are treated as loops. */
export const MAX_RESOLVE_DEPTH = 32;
/** BTF_MAX_VLEN / BTF_MAX_TYPE from include/linux/btf.h */
const BTF_MAX_TYPE = 0x000fffff;

const KIND_BY_NUMBER: (BtfKind | undefined)[] = [];
for (const [name, n] of Object.entries(BTF_KIND)) if (name !== 'unkn') KIND_BY_NUMBER[n] = name as BtfKind;

const FUNC_LINKAGE: FuncLinkage[] = ['static', 'global', 'extern'];
const VAR_LINKAGE: VarLinkage[] = ['static', 'global', 'extern'];

export interface BtfParseOptions {
  /** base BTF for split BTF (kernel module BTF on top of vmlinux) */
  base?: Btf;
}

export class Btf {
  /** index = type id; [0] is void. For split BTF the base types come first. */
  readonly types: BtfType[];
  readonly strings: BtfStrings;
  readonly endian: 'le' | 'be';
  /** byte offset of each of our own types' `struct btf_type` in the blob (for error messages) */
  private readonly typeOffsets: number[];
  private byName?: Map<string, number[]>;
  private byEssential?: Map<string, number[]>;
  private readonly alignCache = new Map<number, number>();
  readonly base?: Btf;
  /** pointer size of the target (BPF is 64-bit) */
  readonly pointerSize = 8;

  private constructor(types: BtfType[], strings: BtfStrings, endian: 'le' | 'be', offsets: number[], base?: Btf) {
    this.types = types;
    this.strings = strings;
    this.endian = endian;
    this.typeOffsets = offsets;
    this.base = base;
  }

  /**
   * Build a Btf from already-made types (tests, the writer); ids must equal
   * positions. With `base`, split BTF: `types` are its own, numbered after
   * the base's (as a kernel module's are after vmlinux's).
   */
  static fromTypes(types: BtfType[], base?: Btf): Btf {
    const all = base ? [...base.types, ...types] : types[0]?.kind === 'void' ? types : [{ id: 0, kind: 'void', name: '' } as BtfType, ...types];
    all.forEach((t, i) => {
      if (t.id !== i) throw new BtfError(-1, `type at position ${i} has id ${t.id}`);
    });
    const b = new Btf(all, new BtfStrings(new Uint8Array(1)), 'le', [], base);
    b.checkReferences();
    return b;
  }

  /**
   * Parse a BTF blob. The byte order is detected from the magic (as libbpf
   * does, so a big-endian object's BTF parses on any host); `endian` is the
   * order tried first.
   */
  static parse(bytes: Uint8Array, endian: 'le' | 'be' = 'le', options: BtfParseOptions = {}): Btf {
    if (!(bytes instanceof Uint8Array)) throw new BtfError(0, 'input is not a byte array');
    if (bytes.length < HEADER_SIZE) throw new BtfError(0, `truncated header: ${bytes.length} bytes, need ${HEADER_SIZE}`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let le = endian === 'le';
    const magic = dv.getUint16(0, le);
    if (magic !== BTF_MAGIC) {
      if (dv.getUint16(0, !le) === BTF_MAGIC) le = !le;
      else throw new BtfError(0, `bad magic 0x${magic.toString(16).padStart(4, '0')}, expected 0xeb9f`);
    }
    const version = bytes[2]!;
    if (version !== BTF_VERSION) throw new BtfError(2, `unsupported version ${version}`);
    const flags = bytes[3]!;
    if (flags !== 0) throw new BtfError(3, `unsupported flags 0x${flags.toString(16)}`);
    const hdrLen = dv.getUint32(4, le);
    if (hdrLen < HEADER_SIZE) throw new BtfError(4, `header length ${hdrLen} is shorter than ${HEADER_SIZE}`);
    if (hdrLen > bytes.length) throw new BtfError(4, `header length ${hdrLen} exceeds the blob (${bytes.length} bytes)`);
    // A longer header (from a newer producer) is accepted only if the part we
    // do not understand is zero, as the kernel's btf_check_all_metas requires.
    for (let i = HEADER_SIZE; i < hdrLen; i++)
      if (bytes[i] !== 0) throw new BtfError(i, 'unknown non-zero header field');
    const typeOff = dv.getUint32(8, le);
    const typeLen = dv.getUint32(12, le);
    const strOff = dv.getUint32(16, le);
    const strLen = dv.getUint32(20, le);
    const dataLen = bytes.length - hdrLen;
    if (typeOff % 4 !== 0) throw new BtfError(8, `type section offset ${typeOff} is not 4-byte aligned`);
    if (typeOff > dataLen || typeLen > dataLen - typeOff)
      throw new BtfError(12, `type section [${typeOff}, +${typeLen}) exceeds the data (${dataLen} bytes)`);
    if (strOff > dataLen || strLen > dataLen - strOff)
      throw new BtfError(20, `string section [${strOff}, +${strLen}) exceeds the data (${dataLen} bytes)`);
    if (typeOff < strOff ? typeOff + typeLen > strOff : strOff + strLen > typeOff)
      throw new BtfError(8, 'type and string sections overlap');
    const base = options.base;
    if (!base && strLen === 0) throw new BtfError(20, 'empty string section');
    const strStart = hdrLen + strOff;
    if (strLen > 0) {
      if (!base && bytes[strStart] !== 0) throw new BtfError(strStart, 'string section does not start with a NUL');
      if (bytes[strStart + strLen - 1] !== 0) throw new BtfError(strStart + strLen - 1, 'string section does not end with a NUL');
    }
    const strings = new BtfStrings(bytes.subarray(strStart, strStart + strLen), base?.strings, strStart);

    const types: BtfType[] = base ? base.types.slice() : [{ id: 0, kind: 'void', name: '' }];
    const offsets: number[] = [];
    const start = hdrLen + typeOff;
    const end = start + typeLen;
    let p = start;
    const need = (n: number, what: string): void => {
      if (end - p < n) throw new BtfError(p, `truncated ${what}: need ${n} bytes, ${end - p} left in the type section`);
    };
    const name = (off: number, at: number): string => {
      if (!strings.valid(off)) throw new BtfError(at, `name offset ${off} outside the string section (${strings.length} bytes)`);
      return strings.at(off);
    };
    const u32 = (o: number): number => dv.getUint32(o, le);
    while (p < end) {
      const id = types.length;
      if (id > BTF_MAX_TYPE) throw new BtfError(p, `too many types (more than ${BTF_MAX_TYPE})`);
      need(TYPE_SIZE, 'type header');
      const tp = p;
      const nameOff = u32(p);
      const info = u32(p + 4);
      const sizeOrType = u32(p + 8);
      const vlen = info & 0xffff;
      const kindNo = (info >>> 24) & 0x1f;
      const kindFlag = (info >>> 31) === 1;
      if ((info & 0x60ff0000) !== 0) throw new BtfError(p + 4, `type [${id}]: reserved info bits set (0x${(info >>> 0).toString(16)})`);
      const kind = KIND_BY_NUMBER[kindNo];
      if (!kind || kind === 'void') throw new BtfError(p + 4, `type [${id}]: unknown kind ${kindNo}`);
      const tname = name(nameOff, p);
      p += TYPE_SIZE;
      const noVlen = (): void => {
        if (vlen !== 0) throw new BtfError(tp + 4, `type [${id}] ${kind}: vlen ${vlen} must be 0`);
      };
      const noFlag = (): void => {
        if (kindFlag) throw new BtfError(tp + 4, `type [${id}] ${kind}: kind_flag must be 0`);
      };
      let t: BtfType;
      switch (kind) {
        case 'int': {
          noVlen();
          noFlag();
          need(4, 'int data');
          const data = u32(p);
          p += 4;
          const encoding = (data >>> 24) & 0x0f;
          const offset = (data >>> 16) & 0xff;
          const bits = data & 0xff;
          if ((data & 0xf0000000) !== 0 || (data & 0xff00) !== 0) throw new BtfError(p - 4, `type [${id}] int: reserved bits set`);
          if (![1, 2, 4, 8, 16].includes(sizeOrType)) throw new BtfError(tp + 8, `type [${id}] int: invalid size ${sizeOrType}`);
          if (bits === 0 || bits > 128 || offset + bits > sizeOrType * 8)
            throw new BtfError(p - 4, `type [${id}] int: ${bits} bits at offset ${offset} do not fit ${sizeOrType} bytes`);
          // The kernel allows at most one encoding bit (btf_int_check_meta).
          if (encoding !== 0 && encoding !== 1 && encoding !== 2 && encoding !== 4)
            throw new BtfError(p - 4, `type [${id}] int: invalid encoding ${encoding}`);
          t = {
            id,
            kind,
            name: tname,
            size: sizeOrType,
            encoding: { signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0 },
            bits,
            offset,
          };
          break;
        }
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
          noVlen();
          if (kind !== 'typedef' && kind !== 'type_tag') noFlag();
          t = { id, kind, name: tname, typeId: sizeOrType };
          break;
        case 'array': {
          noVlen();
          noFlag();
          need(12, 'array data');
          t = { id, kind, name: tname, elemTypeId: u32(p), indexTypeId: u32(p + 4), nelems: u32(p + 8) };
          p += 12;
          break;
        }
        case 'struct':
        case 'union': {
          need(12 * vlen, `${kind} members`);
          const members: Member[] = new Array(vlen);
          for (let i = 0; i < vlen; i++, p += 12) {
            const off = u32(p + 8);
            const m: Member = {
              name: name(u32(p), p),
              typeId: u32(p + 4),
              bitOffset: kindFlag ? off & 0xffffff : off,
              bitfieldSize: kindFlag ? off >>> 24 : 0,
            };
            if (m.bitOffset + m.bitfieldSize > sizeOrType * 8)
              throw new BtfError(p + 8, `type [${id}] ${kind}: member '${m.name}' at bit ${m.bitOffset} lies outside the ${sizeOrType}-byte ${kind}`);
            members[i] = m;
          }
          t = { id, kind, name: tname, size: sizeOrType, members, kindFlag };
          break;
        }
        case 'enum': {
          need(8 * vlen, 'enum values');
          if (![1, 2, 4, 8].includes(sizeOrType)) throw new BtfError(tp + 8, `type [${id}] enum: invalid size ${sizeOrType}`);
          const values = new Array(vlen);
          for (let i = 0; i < vlen; i++, p += 8)
            values[i] = { name: name(u32(p), p), value: kindFlag ? dv.getInt32(p + 4, le) : u32(p + 4) };
          t = { id, kind, name: tname, size: sizeOrType, signed: kindFlag, values };
          break;
        }
        case 'enum64': {
          need(12 * vlen, 'enum64 values');
          if (![1, 2, 4, 8].includes(sizeOrType)) throw new BtfError(tp + 8, `type [${id}] enum64: invalid size ${sizeOrType}`);
          const values = new Array(vlen);
          for (let i = 0; i < vlen; i++, p += 12) {
            const v = (BigInt(u32(p + 8)) << 32n) | BigInt(u32(p + 4));
            values[i] = { name: name(u32(p), p), value: kindFlag ? BigInt.asIntN(64, v) : v };
          }
          t = { id, kind, name: tname, size: sizeOrType, signed: kindFlag, values };
          break;
        }
        case 'fwd':
          noVlen();
          t = { id, kind, name: tname, union: kindFlag };
          break;
        case 'func':
          noFlag();
          if (vlen > 2) throw new BtfError(tp + 4, `type [${id}] func: invalid linkage ${vlen}`);
          t = { id, kind, name: tname, typeId: sizeOrType, linkage: FUNC_LINKAGE[vlen]! };
          break;
        case 'func_proto': {
          noFlag();
          need(8 * vlen, 'func_proto params');
          const params = new Array(vlen);
          for (let i = 0; i < vlen; i++, p += 8) params[i] = { name: name(u32(p), p), typeId: u32(p + 4) };
          t = { id, kind, name: tname, returnTypeId: sizeOrType, params };
          break;
        }
        case 'var': {
          noVlen();
          noFlag();
          need(4, 'var data');
          const linkage = u32(p);
          if (linkage > 2) throw new BtfError(p, `type [${id}] var: invalid linkage ${linkage}`);
          p += 4;
          t = { id, kind, name: tname, typeId: sizeOrType, linkage: VAR_LINKAGE[linkage]! };
          break;
        }
        case 'datasec': {
          noFlag();
          need(12 * vlen, 'datasec vars');
          const vars = new Array(vlen);
          for (let i = 0; i < vlen; i++, p += 12) vars[i] = { typeId: u32(p), offset: u32(p + 4), size: u32(p + 8) };
          t = { id, kind, name: tname, size: sizeOrType, vars };
          break;
        }
        case 'float':
          noVlen();
          noFlag();
          if (![2, 4, 8, 12, 16].includes(sizeOrType)) throw new BtfError(tp + 8, `type [${id}] float: invalid size ${sizeOrType}`);
          t = { id, kind, name: tname, size: sizeOrType };
          break;
        case 'decl_tag':
          noVlen();
          need(4, 'decl_tag data');
          t = { id, kind, name: tname, typeId: sizeOrType, componentIdx: dv.getInt32(p, le) };
          p += 4;
          break;
      }
      types.push(t);
      offsets.push(tp);
    }
    const btf = new Btf(types, strings, le ? 'le' : 'be', offsets, base);
    btf.checkReferences();
    return btf;
  }

  /** Byte offset of type `id` in its blob, or -1 (void, base types, built types). */
  offsetOf(id: number): number {
    const first = this.base ? this.base.types.length : 1;
    return this.typeOffsets[id - first] ?? -1;
  }

  /**
   * Every type id a type refers to must exist, and each reference must point
   * at a kind that makes sense there (a member cannot be a func, a func must
   * point at a func_proto, ...), as the kernel's btf_check_all_types demands.
   */
  private checkReferences(): void {
    const n = this.types.length;
    const first = this.base ? this.base.types.length : 1;
    for (let id = first; id < n; id++) {
      const t = this.types[id]!;
      const at = this.offsetOf(id);
      const ref = (target: number, what: string, allowVoid: boolean): void => {
        if (target >= n || (!allowVoid && target === 0))
          throw new BtfError(at, `type [${id}] ${t.kind}: ${what} refers to ${target === 0 ? 'void' : `missing type ${target}`} (${n - 1} types)`);
      };
      switch (t.kind) {
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
          ref(t.typeId, 'type_id', true);
          if (t.kind === 'typedef' && t.name === '') throw new BtfError(at, `type [${id}] typedef: anonymous typedef`);
          break;
        case 'array':
          ref(t.elemTypeId, 'element type', false);
          ref(t.indexTypeId, 'index type', false);
          break;
        case 'struct':
        case 'union':
          for (const m of t.members) ref(m.typeId, `member '${m.name}'`, false);
          break;
        case 'func':
          ref(t.typeId, 'prototype', false);
          if (this.types[t.typeId]!.kind !== 'func_proto')
            throw new BtfError(at, `type [${id}] func '${t.name}': type_id ${t.typeId} is a ${this.types[t.typeId]!.kind}, not a func_proto`);
          break;
        case 'func_proto':
          ref(t.returnTypeId, 'return type', true);
          t.params.forEach((p, i) => {
            ref(p.typeId, `parameter ${i}`, i === t.params.length - 1);
          });
          break;
        case 'var':
          ref(t.typeId, 'type_id', false);
          if (t.name === '') throw new BtfError(at, `type [${id}] var: anonymous var`);
          break;
        case 'datasec':
          for (const v of t.vars) {
            ref(v.typeId, 'var', false);
            const k = this.types[v.typeId]!.kind;
            if (k !== 'var' && k !== 'func') throw new BtfError(at, `type [${id}] datasec '${t.name}': entry ${v.typeId} is a ${k}, not a var`);
          }
          break;
        case 'decl_tag':
          ref(t.typeId, 'type_id', false);
          if (t.componentIdx < -1) throw new BtfError(at, `type [${id}] decl_tag: invalid component_idx ${t.componentIdx}`);
          if (t.componentIdx >= 0) {
            // a component is a member (struct/union) or a parameter (func)
            const target = this.types[t.typeId]!;
            const proto = target.kind === 'func' ? this.types[target.typeId] : undefined;
            const n =
              target.kind === 'struct' || target.kind === 'union'
                ? target.members.length
                : proto?.kind === 'func_proto'
                  ? proto.params.length
                  : 0;
            if (t.componentIdx >= n)
              throw new BtfError(at, `type [${id}] decl_tag: component_idx ${t.componentIdx} out of range for a ${target.kind} with ${n} components`);
          }
          break;
        default:
          break;
      }
    }
  }

  /** The number of type ids (including void). */
  get length(): number {
    return this.types.length;
  }

  /** The type with this id; a BtfError for an id that does not exist. */
  typeById(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined || !Number.isInteger(id)) throw new BtfError(-1, `no type with id ${id} (${this.types.length - 1} types)`, 'ENOENT');
    return t;
  }

  /** The name of type `id` ('' for anonymous types). */
  nameOf(id: number): string {
    return this.typeById(id).name;
  }

  /**
   * The first type called `name` (of kind `kind` if given), or undefined.
   * The index is built on first use.
   */
  typeByName(name: string, kind?: BtfKind): BtfType | undefined {
    for (const id of this.idsByName(name)) {
      const t = this.types[id]!;
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  /** All type ids named `name`, in id order. */
  idsByName(name: string): readonly number[] {
    if (!this.byName) {
      const m = new Map<string, number[]>();
      for (const t of this.types) {
        if (t.name === '') continue;
        const l = m.get(t.name);
        if (l) l.push(t.id);
        else m.set(t.name, [t.id]);
      }
      this.byName = m;
    }
    return this.byName.get(name) ?? [];
  }

  /**
   * All type ids whose name, without a `___flavor` suffix, is `ess`, in id
   * order: the candidates of a CO-RE relocation (libbpf's bpf_core_add_cands
   * scans every type; an index answers the same in one lookup).
   */
  idsByEssentialName(ess: string): readonly number[] {
    if (!this.byEssential) {
      const m = new Map<string, number[]>();
      for (const t of this.types) {
        if (t.name === '') continue;
        const k = essentialName(t.name);
        const l = m.get(k);
        if (l) l.push(t.id);
        else m.set(k, [t.id]);
      }
      this.byEssential = m;
    }
    return this.byEssential.get(ess) ?? [];
  }

  /** Skip typedef/const/volatile/restrict/type_tag and return the underlying id. */
  resolve(id: number): number {
    let cur = id;
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      const t = this.typeById(cur);
      if (!MODIFIER_KINDS.has(t.kind)) return cur;
      cur = (t as { typeId: number }).typeId;
    }
    throw new BtfError(this.offsetOf(id), `type [${id}]: reference chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`, 'ELOOP');
  }

  /** Like resolve, but also skips var and decl_tag (what a value of `id` is stored as). */
  private resolveStorage(id: number): number {
    let cur = id;
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      const t = this.typeById(cur);
      if (!MODIFIER_KINDS.has(t.kind) && t.kind !== 'var' && t.kind !== 'decl_tag') return cur;
      cur = (t as { typeId: number }).typeId;
    }
    throw new BtfError(this.offsetOf(id), `type [${id}]: reference chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`, 'ELOOP');
  }

  /** The size in bytes of a value of type `id`, as libbpf's btf__resolve_size computes it. */
  sizeof(id: number): number {
    let cur = id;
    let nelems = 1;
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      const t = this.typeById(this.resolveStorage(cur));
      switch (t.kind) {
        case 'int':
        case 'enum':
        case 'enum64':
        case 'struct':
        case 'union':
        case 'datasec':
        case 'float': {
          const size = nelems * t.size;
          if (size > 0xffffffff) throw new BtfError(this.offsetOf(id), `type [${id}]: size ${size} overflows 32 bits`, 'E2BIG');
          return size;
        }
        case 'ptr': {
          const size = nelems * this.pointerSize;
          if (size > 0xffffffff) throw new BtfError(this.offsetOf(id), `type [${id}]: size ${size} overflows 32 bits`, 'E2BIG');
          return size;
        }
        case 'array':
          nelems *= t.nelems;
          if (nelems > 0xffffffff) throw new BtfError(this.offsetOf(id), `type [${id}]: array size overflows 32 bits`, 'E2BIG');
          cur = t.elemTypeId;
          break;
        default:
          throw new BtfError(this.offsetOf(id), `type [${id}]: a ${t.kind} has no size`);
      }
    }
    throw new BtfError(this.offsetOf(id), `type [${id}]: reference chain longer than ${MAX_RESOLVE_DEPTH} (a loop?)`, 'ELOOP');
  }

  /** The alignment in bytes of type `id`, as libbpf's btf__align_of computes it (1 for packed structs). */
  alignof(id: number, depth = 0): number {
    if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(this.offsetOf(id), `type [${id}]: type nesting deeper than ${MAX_RESOLVE_DEPTH} (a loop?)`, 'ELOOP');
    // memoized: a struct's alignment needs its members', and dumping asks for
    // every member of every struct, so without it the walk is exponential
    const hit = this.alignCache.get(id);
    if (hit !== undefined) return hit;
    const a = this.computeAlign(id, depth);
    this.alignCache.set(id, a);
    return a;
  }

  private computeAlign(id: number, depth: number): number {
    const t = this.typeById(this.resolveStorage(id));
    switch (t.kind) {
      case 'int':
      case 'enum':
      case 'enum64':
      case 'float':
        return Math.min(t.size, this.pointerSize);
      case 'ptr':
        return this.pointerSize;
      case 'array':
        return this.alignof(t.elemTypeId, depth + 1);
      case 'struct':
      case 'union': {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignof(m.typeId, depth + 1);
          // A member off its natural alignment means the struct was packed.
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
          if (a > max) max = a;
        }
        if (t.size % max !== 0) return 1;
        return max;
      }
      default:
        throw new BtfError(this.offsetOf(id), `type [${id}]: a ${t.kind} has no alignment`);
    }
  }

  /**
   * Write the BTF back as a little- or big-endian blob (what a writer puts
   * in `.BTF`). Strings are rebuilt and deduplicated; split BTF writes only
   * its own types, with string offsets after the base's.
   */
  encode(endian: 'le' | 'be' = this.endian): Uint8Array {
    const le = endian === 'le';
    const first = this.base ? this.base.types.length : 1;
    const baseStrLen = this.base ? this.base.strings.length : 0;
    const strs = new StringTableBuilder();
    const s = (name: string): number => baseStrLen + strs.add(name);
    // Compute the type section size first.
    let typeLen = 0;
    for (let id = first; id < this.types.length; id++) typeLen += encodedSize(this.types[id]!);
    const tbuf = new Uint8Array(typeLen);
    const dv = new DataView(tbuf.buffer);
    let p = 0;
    const w = (v: number): void => {
      dv.setUint32(p, v >>> 0, le);
      p += 4;
    };
    const head = (t: BtfType, vlen: number, kindFlag: boolean, sizeOrType: number): void => {
      w(t.name === '' ? 0 : s(t.name));
      w(((kindFlag ? 1 : 0) << 31) | (BTF_KIND[t.kind as Exclude<BtfKind, 'void'>] << 24) | (vlen & 0xffff));
      w(sizeOrType);
    };
    for (let id = first; id < this.types.length; id++) {
      const t = this.types[id]!;
      switch (t.kind) {
        case 'void':
          throw new BtfError(-1, `type [${id}] is void; only id 0 may be void`);
        case 'int':
          head(t, 0, false, t.size);
          w(((t.encoding.signed ? 1 : 0) | (t.encoding.char ? 2 : 0) | (t.encoding.bool ? 4 : 0)) << 24 | (t.offset << 16) | t.bits);
          break;
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
          head(t, 0, false, t.typeId);
          break;
        case 'array':
          head(t, 0, false, 0);
          w(t.elemTypeId);
          w(t.indexTypeId);
          w(t.nelems);
          break;
        case 'struct':
        case 'union': {
          const kf = t.kindFlag || t.members.some((m) => m.bitfieldSize !== 0);
          head(t, t.members.length, kf, t.size);
          for (const m of t.members) {
            w(m.name === '' ? 0 : s(m.name));
            w(m.typeId);
            w(kf ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
          }
          break;
        }
        case 'enum':
          head(t, t.values.length, t.signed, t.size);
          for (const v of t.values) {
            w(s(v.name));
            w(v.value);
          }
          break;
        case 'enum64':
          head(t, t.values.length, t.signed, t.size);
          for (const v of t.values) {
            const u = BigInt.asUintN(64, v.value);
            w(s(v.name));
            w(Number(u & 0xffffffffn));
            w(Number(u >> 32n));
          }
          break;
        case 'fwd':
          head(t, 0, t.union, 0);
          break;
        case 'func':
          head(t, FUNC_LINKAGE.indexOf(t.linkage), false, t.typeId);
          break;
        case 'func_proto':
          head(t, t.params.length, false, t.returnTypeId);
          for (const prm of t.params) {
            w(prm.name === '' ? 0 : s(prm.name));
            w(prm.typeId);
          }
          break;
        case 'var':
          head(t, 0, false, t.typeId);
          w(VAR_LINKAGE.indexOf(t.linkage));
          break;
        case 'datasec':
          head(t, t.vars.length, false, t.size);
          for (const v of t.vars) {
            w(v.typeId);
            w(v.offset);
            w(v.size);
          }
          break;
        case 'float':
          head(t, 0, false, t.size);
          break;
        case 'decl_tag':
          head(t, 0, false, t.typeId);
          w(t.componentIdx);
          break;
      }
    }
    const sbuf = strs.bytes();
    const out = new Uint8Array(HEADER_SIZE + typeLen + sbuf.length);
    const hv = new DataView(out.buffer);
    hv.setUint16(0, BTF_MAGIC, le);
    out[2] = BTF_VERSION;
    out[3] = 0;
    hv.setUint32(4, HEADER_SIZE, le);
    hv.setUint32(8, 0, le);
    hv.setUint32(12, typeLen, le);
    hv.setUint32(16, typeLen, le);
    hv.setUint32(20, sbuf.length, le);
    out.set(tbuf, HEADER_SIZE);
    out.set(sbuf, HEADER_SIZE + typeLen);
    return out;
  }
}

function encodedSize(t: BtfType): number {
  switch (t.kind) {
    case 'int':
    case 'var':
    case 'decl_tag':
      return TYPE_SIZE + 4;
    case 'array':
      return TYPE_SIZE + 12;
    case 'struct':
    case 'union':
      return TYPE_SIZE + 12 * t.members.length;
    case 'enum':
      return TYPE_SIZE + 8 * t.values.length;
    case 'enum64':
      return TYPE_SIZE + 12 * t.values.length;
    case 'func_proto':
      return TYPE_SIZE + 8 * t.params.length;
    case 'datasec':
      return TYPE_SIZE + 12 * t.vars.length;
    default:
      return TYPE_SIZE;
  }
}
