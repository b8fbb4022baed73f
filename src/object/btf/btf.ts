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
import { hashString, NameIndex } from './name-index.js';
import { decodeRecord, FUNC_LINKAGE, recordEnd, TYPE_SIZE, VAR_LINKAGE, type TypeSection } from './records.js';
import { BTF_KIND, MODIFIER_KINDS, type BtfKind, type BtfType } from './types.js';

export const BTF_MAGIC = 0xeb9f;
const BTF_VERSION = 1;
const HEADER_SIZE = 24;
/** libbpf's MAX_RESOLVE_DEPTH: longer reference chains are treated as loops. */
export const MAX_RESOLVE_DEPTH = 32;
/** BTF_MAX_VLEN / BTF_MAX_TYPE from include/linux/btf.h */
const BTF_MAX_TYPE = 0x000fffff;

const VOID: BtfType = { id: 0, kind: 'void', name: '' };

export interface BtfParseOptions {
  /** base BTF for split BTF (kernel module BTF on top of vmlinux) */
  base?: Btf;
}

/** What a parse found, for `Btf.reopen` (see `Btf.parseState`). */
export interface BtfParseState {
  /** byte offset of each type's record in the blob, for ids 1.. */
  readonly typeOffsets: Uint32Array;
  /** NameIndex's hash of each type id's name and of its essential name (0: anonymous), void included */
  readonly plainHashes: Uint32Array;
  readonly essentialHashes: Uint32Array;
}

/**
 * Parsed BTF. `parse` validates the whole blob in one pass that allocates
 * nothing per type (the kernel's BTF has ~126k types and a program touches a
 * few hundred), keeping only each record's offset; a type's object is built
 * the first time its id is asked for, and the name indexes the first time a
 * name is looked up.
 */
export class Btf {
  readonly strings: BtfStrings;
  readonly endian: 'le' | 'be';
  readonly base?: Btf;
  /** pointer size of the target (BPF is 64-bit) */
  readonly pointerSize = 8;
  /** the type section of a parsed blob (undefined for built types) */
  private readonly section?: TypeSection;
  /** byte offset of each of our own types' `struct btf_type` in the blob, by id - first */
  private readonly typeOffsets: Uint32Array;
  /** the first id that is ours (after void, or after the base's types) */
  private readonly first: number;
  /** number of type ids, void and the base's included */
  private readonly count: number;
  /** types built so far, by id */
  private readonly decoded: (BtfType | undefined)[];
  private all?: BtfType[];
  private byName?: NameIndex;
  private byEssential?: NameIndex;
  /** nameHashes' answer, until both name indexes are built */
  private hashes?: readonly [Uint32Array, Uint32Array];
  private readonly alignCache = new Map<number, number>();

  private constructor(strings: BtfStrings, endian: 'le' | 'be', count: number, decoded: (BtfType | undefined)[], offsets: Uint32Array, section?: TypeSection, base?: Btf) {
    this.strings = strings;
    this.endian = endian;
    this.count = count;
    this.decoded = decoded;
    this.typeOffsets = offsets;
    this.section = section;
    this.base = base;
    this.first = base ? base.length : 1;
  }

  /**
   * Build a Btf from already-made types (tests, the writer); ids must equal
   * positions. With `base`, split BTF: `types` are its own, numbered after
   * the base's (as a kernel module's are after vmlinux's).
   */
  static fromTypes(types: BtfType[], base?: Btf): Btf {
    const all = base ? [...base.types, ...types] : types[0]?.kind === 'void' ? types : [VOID, ...types];
    all.forEach((t, i) => {
      if (t.id !== i) throw new BtfError(-1, `type at position ${i} has id ${t.id}`);
    });
    const b = new Btf(new BtfStrings(new Uint8Array(1)), 'le', all.length, all.slice(), new Uint32Array(0), undefined, base);
    for (let id = b.first; id < all.length; id++) b.checkTypeReferences(id);
    return b;
  }

  /**
   * Parse a BTF blob. The byte order is detected from the magic (as libbpf
   * does, so a big-endian object's BTF parses on any host); `endian` is the
   * order tried first.
   */
  static parse(bytes: Uint8Array, endian: 'le' | 'be' = 'le', options: BtfParseOptions = {}): Btf {
    const { section, start, first, base } = Btf.header(bytes, endian, options);
    const { strings, le } = section;
    // every record is at least TYPE_SIZE bytes: this bounds the count
    const offsets = new Uint32Array(Math.floor((section.end - start) / TYPE_SIZE));
    let n = 0;
    for (let p = start; p < section.end; n++) {
      if (first + n > BTF_MAX_TYPE) throw new BtfError(p, `too many types (more than ${BTF_MAX_TYPE})`);
      offsets[n] = p;
      p = recordEnd(section, p, first + n);
    }
    const btf = new Btf(strings, le ? 'le' : 'be', first + n, new Array(first + n), offsets.slice(0, n), section, base);
    btf.checkReferences();
    return btf;
  }

  /**
   * What `parse` found that `reopen` takes back instead of checking the blob again: each
   * record's offset, and the hashes the name indexes are built from (computed here when no
   * lookup by name has needed them yet). Undefined for built types and split BTF.
   */
  parseState(): BtfParseState | undefined {
    if (!this.section || this.base) return undefined;
    const [plain, essential] = this.hashes ?? this.nameHashes();
    return { typeOffsets: this.typeOffsets, plainHashes: plain, essentialHashes: essential };
  }

  /**
   * The Btf of a blob that `parse` accepted before, in this process or another, from the
   * `parseState` it left: no record or reference is checked again (for the kernel's 126k types
   * that check is most of a parse). Only for bytes known to be the very blob that was parsed:
   * src/cli/btf-input.ts keeps the state in the user's own cache keyed by the file's identity.
   * The header is read again and the state must fit it (offsets rising inside the type section,
   * one hash per type), or this throws as parse would on a corrupt blob.
   */
  static reopen(bytes: Uint8Array, state: BtfParseState, endian: 'le' | 'be' = 'le'): Btf {
    const { section, start, first } = Btf.header(bytes, endian, {});
    const offs = state.typeOffsets;
    const count = first + offs.length;
    if (state.plainHashes.length !== count || state.essentialHashes.length !== count)
      throw new BtfError(-1, `parse state: ${state.plainHashes.length} name hashes for ${count} types`);
    let prev = start - TYPE_SIZE;
    for (let i = 0; i < offs.length; i++) {
      const o = offs[i]!;
      if (o < prev + TYPE_SIZE || o + TYPE_SIZE > section.end) throw new BtfError(o, `parse state: type [${first + i}] at an offset the blob does not have`);
      prev = o;
    }
    if (offs.length && start === section.end) throw new BtfError(start, 'parse state: types in an empty type section');
    const btf = new Btf(section.strings, section.le ? 'le' : 'be', count, new Array(count), offs, section);
    btf.hashes = [state.plainHashes, state.essentialHashes];
    return btf;
  }

  /** The header, checked as the kernel's btf_parse_hdr does, and where the type section lies. */
  private static header(bytes: Uint8Array, endian: 'le' | 'be', options: BtfParseOptions): { section: TypeSection; start: number; first: number; base?: Btf } {
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

    const first = base ? base.length : 1;
    const start = hdrLen + typeOff;
    const section: TypeSection = { dv, le, end: start + typeLen, strings };
    return { section, start, first, base };
  }

  /** Byte offset of type `id` in its blob, or -1 (void, base types, built types). */
  offsetOf(id: number): number {
    return this.typeOffsets[id - this.first] ?? -1;
  }

  /** Every type, by id (built on first use: prefer typeById, length and the name lookups). */
  get types(): readonly BtfType[] {
    if (!this.all) {
      const a = new Array<BtfType>(this.count);
      for (let id = 0; id < this.count; id++) a[id] = this.typeById(id);
      this.all = a;
    }
    return this.all;
  }

  /**
   * Every type id a type refers to must exist, and each reference must point
   * at a kind that makes sense there (a member cannot be a func, a func must
   * point at a func_proto, ...), as the kernel's btf_check_all_types demands.
   * A parsed blob is first screened on its raw words (no type is built);
   * a type the screen doubts gets the full check, which says what is wrong.
   */
  private checkReferences(): void {
    for (let id = this.first; id < this.count; id++) if (!this.referencesPlainlyValid(id)) this.checkTypeReferences(id);
  }

  /** The BTF_KIND_* number of type `id` (read from the blob when not built). */
  private kindNumber(id: number): number {
    const off = this.typeOffsets[id - this.first];
    if (off !== undefined && this.section) return (this.section.dv.getUint32(off + 4, this.section.le) >>> 24) & 0x1f;
    const k = this.typeById(id).kind;
    return k === 'void' ? 0 : BTF_KIND[k];
  }

  /**
   * checkTypeReferences' rules on the raw record: true when they certainly hold. No closures
   * in here: it runs once per type of every BTF parsed (126k for vmlinux), mostly cold.
   */
  private referencesPlainlyValid(id: number): boolean {
    const { dv, le } = this.section!;
    const at = this.typeOffsets[id - this.first]!;
    const n = this.count;
    const info = dv.getUint32(at + 4, le);
    const vlen = info & 0xffff;
    const ref = dv.getUint32(at + 8, le);
    switch ((info >>> 24) & 0x1f) {
      case BTF_KIND.typedef:
        return ref < n && !this.strings.isEmpty(dv.getUint32(at, le));
      case BTF_KIND.ptr:
      case BTF_KIND.volatile:
      case BTF_KIND.const:
      case BTF_KIND.restrict:
      case BTF_KIND.type_tag:
        return ref < n;
      case BTF_KIND.array: {
        const e = dv.getUint32(at + 12, le);
        const i = dv.getUint32(at + 16, le);
        return e > 0 && e < n && i > 0 && i < n;
      }
      case BTF_KIND.struct:
      case BTF_KIND.union:
        for (let i = 0, p = at + 16; i < vlen; i++, p += 12) {
          const m = dv.getUint32(p, le);
          if (m === 0 || m >= n) return false;
        }
        return true;
      case BTF_KIND.func:
        return ref > 0 && ref < n && this.kindNumber(ref) === BTF_KIND.func_proto;
      case BTF_KIND.func_proto:
        if (ref >= n) return false;
        for (let i = 0, p = at + 16; i < vlen; i++, p += 8) {
          const t = dv.getUint32(p, le);
          if (t >= n || (t === 0 && i !== vlen - 1)) return false;
        }
        return true;
      case BTF_KIND.var:
        return ref > 0 && ref < n && !this.strings.isEmpty(dv.getUint32(at, le));
      case BTF_KIND.datasec:
        for (let i = 0, p = at + 12; i < vlen; i++, p += 12) {
          const v = dv.getUint32(p, le);
          if (v === 0 || v >= n) return false;
          const k = this.kindNumber(v);
          if (k !== BTF_KIND.var && k !== BTF_KIND.func) return false;
        }
        return true;
      case BTF_KIND.decl_tag:
        return ref > 0 && ref < n && dv.getInt32(at + 12, le) === -1;
      default:
        return true;
    }
  }

  /** The reference rules for one type, with a message naming what is wrong. */
  private checkTypeReferences(id: number): void {
    const n = this.count;
    const t = this.typeById(id);
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
      case 'func': {
        ref(t.typeId, 'prototype', false);
        const proto = this.typeById(t.typeId);
        if (proto.kind !== 'func_proto')
          throw new BtfError(at, `type [${id}] func '${t.name}': type_id ${t.typeId} is a ${proto.kind}, not a func_proto`);
        break;
      }
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
          const k = this.typeById(v.typeId).kind;
          if (k !== 'var' && k !== 'func') throw new BtfError(at, `type [${id}] datasec '${t.name}': entry ${v.typeId} is a ${k}, not a var`);
        }
        break;
      case 'decl_tag':
        ref(t.typeId, 'type_id', false);
        if (t.componentIdx < -1) throw new BtfError(at, `type [${id}] decl_tag: invalid component_idx ${t.componentIdx}`);
        if (t.componentIdx >= 0) {
          // a component is a member (struct/union) or a parameter (func)
          const target = this.typeById(t.typeId);
          const proto = target.kind === 'func' ? this.typeById(target.typeId) : undefined;
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

  /** The number of type ids (including void). */
  get length(): number {
    return this.count;
  }

  /** The type with this id; a BtfError for an id that does not exist. */
  typeById(id: number): BtfType {
    const t = this.decoded[id];
    if (t !== undefined) return t;
    if (!Number.isInteger(id) || id < 0 || id >= this.count) throw new BtfError(-1, `no type with id ${id} (${this.count - 1} types)`, 'ENOENT');
    if (id < this.first) return this.base ? this.base.typeById(id) : VOID;
    const built = decodeRecord(this.section!, this.typeOffsets[id - this.first]!, id);
    this.decoded[id] = built;
    return built;
  }

  /** The name of type `id` ('' for anonymous types), without building the type. */
  nameOf(id: number): string {
    const off = this.typeOffsets[id - this.first];
    if (off === undefined || !this.section || this.decoded[id]) return this.typeById(id).name;
    return this.strings.at(this.section.dv.getUint32(off, this.section.le));
  }

  /**
   * The first type called `name` (of kind `kind` if given), or undefined.
   * The index is built on first use.
   */
  typeByName(name: string, kind?: BtfKind): BtfType | undefined {
    for (const id of this.idsByName(name)) {
      const t = this.typeById(id);
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  /** All type ids named `name`, in id order. */
  idsByName(name: string): readonly number[] {
    this.byName ??= this.nameIndex(false);
    return this.byName.lookup(name);
  }

  /**
   * All type ids whose name, without a `___flavor` suffix, is `ess`, in id
   * order: the candidates of a CO-RE relocation (libbpf's bpf_core_add_cands
   * scans every type; an index answers the same in one lookup).
   */
  idsByEssentialName(ess: string): readonly number[] {
    this.byEssential ??= this.nameIndex(true);
    return this.byEssential.lookup(ess);
  }

  /**
   * The hashes NameIndex files each type id under (0: anonymous), by name and by essential
   * name, read from the string section in one pass; kept until both indexes are built.
   */
  private nameHashes(): readonly [Uint32Array, Uint32Array] {
    if (this.hashes) return this.hashes;
    const plain = new Uint32Array(this.count);
    const ess = new Uint32Array(this.count);
    if (this.base) {
      const [bp, be] = this.base.nameHashes();
      plain.set(bp.subarray(0, this.first));
      ess.set(be.subarray(0, this.first));
    }
    const s = this.section;
    if (s) {
      const nameOffs = new Uint32Array(this.typeOffsets.length);
      for (let i = 0; i < nameOffs.length; i++) nameOffs[i] = s.dv.getUint32(this.typeOffsets[i]!, s.le);
      this.strings.hashAll(nameOffs, plain, ess, this.first);
    } else
      for (let id = this.first; id < this.count; id++) {
        const name = this.typeById(id).name;
        if (name === '') continue;
        plain[id] = hashString(name);
        ess[id] = hashString(essentialName(name));
      }
    return (this.hashes = [plain, ess]);
  }

  /** The name index: read from the string section, no name decoded. */
  private nameIndex(essential: boolean): NameIndex {
    const index = new NameIndex(this.nameHashes()[essential ? 1 : 0], essential ? (id) => essentialName(this.nameOf(id)) : (id) => this.nameOf(id));
    if (this.byName || this.byEssential) this.hashes = undefined; // the other index exists: the hashes are done with
    return index;
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
    const first = this.first;
    const baseStrLen = this.base ? this.base.strings.length : 0;
    const strs = new StringTableBuilder();
    const s = (name: string): number => baseStrLen + strs.add(name);
    // Compute the type section size first.
    let typeLen = 0;
    for (let id = first; id < this.count; id++) typeLen += encodedSize(this.typeById(id));
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
    for (let id = first; id < this.count; id++) {
      const t = this.typeById(id);
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
