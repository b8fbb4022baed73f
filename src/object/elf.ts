/**
 * ELF64 reader for BPF relocatable objects (what `clang -target bpf -c`
 * writes), little- and big-endian.
 *
 * The bytes are untrusted: every offset and size read from the file is checked
 * against the buffer before it is used, counts are bounded by the bytes that
 * would hold them (so a forged `e_shnum` cannot make us allocate more than the
 * file's size), and every failure is an {@link ElfError} carrying the file
 * offset of the field that was wrong. Parsing is linear in the file size.
 *
 * Layout references: the System V gABI (ELF-64 Object File Format 1.5),
 * include/uapi/linux/elf.h, and llvm's BPF ELF relocation types.
 */
import { TsbpfError, type Errno } from '../errors.js';

/** A malformed or non-BPF ELF file: `offset` is where in the file the problem is. */
export class ElfError extends TsbpfError {
  constructor(
    readonly offset: number,
    readonly reason: string,
    errno: Errno = 'EINVAL',
  ) {
    super(errno, `ELF offset 0x${offset.toString(16)}: ${reason}`);
  }
}

// e_ident
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
export const ET_REL = 1;
/** e_machine of BPF objects; old toolchains wrote EM_NONE, which libbpf also accepts. */
export const EM_BPF = 247;
export const EM_NONE = 0;

// Section types
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;

// Section flags
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

// Special section indices
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// Symbol binding and type
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

// BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def)
export const R_BPF_NONE = 0;
/** 64-bit immediate of an lddw: map, global data or function address */
export const R_BPF_64_64 = 1;
/** absolute 64-bit data (e.g. pointers in .maps initialisers) */
export const R_BPF_64_ABS64 = 2;
/** absolute 32-bit data (DWARF, .BTF.ext) */
export const R_BPF_64_ABS32 = 3;
/** 32-bit, DWARF only */
export const R_BPF_64_NODYLD32 = 4;
/** the imm of a call: bpf-to-bpf calls and kfuncs */
export const R_BPF_64_32 = 10;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** file offset of the contents (meaningless for SHT_NOBITS) */
  offset: number;
  /** size in bytes (for SHT_NOBITS: the size of the zero-filled region) */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** the contents; zero-filled for SHT_NOBITS (bounded by the caller's size check) */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  /** st_value: for defined symbols in a relocatable object, the offset in its section */
  value: number;
  size: number;
  bind: number;
  type: number;
  visibility: number;
  /** section index (SHN_XINDEX already resolved through SHT_SYMTAB_SHNDX) */
  shndx: number;
}

export interface ElfRelocation {
  /** offset in the target section */
  offset: number;
  symbol: number;
  type: number;
  /** RELA addend; REL relocations keep theirs in the relocated field */
  addend?: bigint;
  /** file offset of this entry, for error messages */
  fileOffset: number;
}

export interface ElfRelocationSection {
  section: ElfSection;
  /** the section these entries patch (sh_info) */
  target: number;
  /** read from the file when first asked for (parseElf has checked them all) */
  readonly entries: ElfRelocation[];
}

export interface ElfFile {
  endian: 'le' | 'be';
  type: number;
  machine: number;
  flags: number;
  sections: ElfSection[];
  /** the single symbol table (index 0 is the null symbol), empty when there is none */
  symbols: ElfSymbol[];
  /** relocation sections, by the index of the section they apply to */
  relocations: Map<number, ElfRelocationSection[]>;
  bytes: Uint8Array;
}

/** Bounds-checked field reads over the file. */
class Reader {
  readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(off: number, len: number, what: string): void {
    if (!(off >= 0 && len >= 0 && off + len <= this.bytes.length))
      throw new ElfError(off, `${what} (${len} bytes) extends past the end of the file (${this.bytes.length} bytes)`);
  }
  u8(off: number): number {
    this.check(off, 1, 'field');
    return this.bytes[off]!;
  }
  u16(off: number): number {
    this.check(off, 2, 'field');
    return this.dv.getUint16(off, this.le);
  }
  u32(off: number): number {
    this.check(off, 4, 'field');
    return this.dv.getUint32(off, this.le);
  }
  u64(off: number): bigint {
    this.check(off, 8, 'field');
    return this.dv.getBigUint64(off, this.le);
  }
  /** The high and low 32-bit halves of a 64-bit field (no BigInt, no array: this is the hot path). */
  hi(off: number): number {
    this.check(off, 8, 'field');
    return this.dv.getUint32(this.le ? off + 4 : off, this.le);
  }
  lo(off: number): number {
    return this.dv.getUint32(this.le ? off : off + 4, this.le);
  }
  /** A 64-bit value as a number, or Number.MAX_SAFE_INTEGER when it does not fit in 53 bits. */
  u64n(off: number): number {
    const hi = this.hi(off);
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + this.lo(off);
  }
  /**
   * A 64-bit size/offset that must fit in the file: anything larger cannot be valid. `what` names
   * the field, prefixed by `section N` when `section` is given: the message is built only for an
   * error (a template string per field of every section header was most of a small object's parse).
   */
  size64(off: number, what: string, section?: number): number {
    const hi = this.hi(off);
    if (hi >= 0x200000)
      throw new ElfError(off, `${section === undefined ? '' : `section ${section} `}${what} 0x${this.u64(off).toString(16)} is out of range`);
    return hi * 0x100000000 + this.lo(off);
  }
}

/**
 * A NUL-terminated name from a string table section; `kind` and `n` name whose (section 3, symbol
 * 7) in an error, built only then.
 */
function stringAt(table: ElfSection | undefined, index: number, fieldOffset: number, kind: 'section' | 'symbol', n: number): string {
  if (index === 0) return '';
  const data = table?.type === SHT_STRTAB && index < table.size ? table.data : undefined;
  const end = data ? data.indexOf(0, index) : -1;
  if (end >= 0) return latin1(data!, index, end);
  const what = `${kind} ${n}`;
  if (!table) throw new ElfError(fieldOffset, `${what} name refers to a missing string table`);
  if (table.type !== SHT_STRTAB) throw new ElfError(fieldOffset, `${what} name table (section ${table.index}) is not SHT_STRTAB`);
  if (index >= table.size)
    throw new ElfError(fieldOffset, `${what} name offset ${index} is outside the string table (${table.size} bytes)`);
  throw new ElfError(table.offset + index, `${what} name is not NUL-terminated`);
}

const decoder = new TextDecoder('utf-8', { fatal: false });
/**
 * The contents of a section without any (SHT_NULL): one shared empty array, as a zero-length
 * `new Uint8Array(0)` is V8's slow path (a fresh empty ArrayBuffer, about 1 us each).
 */
const EMPTY: Uint8Array = new Uint8Array(0);
/** Names are ASCII in practice: build those directly, decode anything else as UTF-8. */
function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return decoder.decode(b.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** Parse the ELF header, section headers, symbols and relocations of a BPF object. */
export function parseElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < 16) throw new ElfError(0, `file is ${bytes.length} bytes, too short for an ELF header`, 'ENOEXEC');
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new ElfError(0, 'not an ELF file (bad magic)', 'ENOEXEC');
  if (bytes[4] !== ELFCLASS64) throw new ElfError(4, `ELF class ${bytes[4]} is not ELFCLASS64`, 'ENOEXEC');
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw new ElfError(5, `unknown ELF data encoding ${data}`, 'ENOEXEC');
  if (bytes[6] !== 1) throw new ElfError(6, `unknown ELF version ${bytes[6]}`, 'ENOEXEC');
  if (bytes.length < EHDR_SIZE) throw new ElfError(0, `file is ${bytes.length} bytes, too short for an ELF64 header`, 'ENOEXEC');
  const le = data === ELFDATA2LSB;
  const r = new Reader(bytes, le);

  const type = r.u16(16);
  const machine = r.u16(18);
  const flags = r.u32(48);
  const shoff = r.size64(40, 'e_shoff');
  const ehsize = r.u16(52);
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (ehsize !== 0 && ehsize < EHDR_SIZE) throw new ElfError(52, `e_ehsize ${ehsize} is smaller than an ELF64 header`);

  const sections: ElfSection[] = [];
  let nobits = 0;
  if (shoff !== 0) {
    if (shentsize !== SHDR_SIZE) throw new ElfError(58, `e_shentsize ${shentsize} is not ${SHDR_SIZE}`);
    r.check(shoff, SHDR_SIZE, 'section header 0');
    // gABI: more than SHN_LORESERVE sections store the real count in section 0's sh_size
    // and the real string table index in its sh_link.
    if (shnum === 0) shnum = r.size64(shoff + 32, 'section count (sh_size of section 0)');
    if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40);
    if (shnum > (bytes.length - shoff) / SHDR_SIZE)
      throw new ElfError(60, `${shnum} section headers at 0x${shoff.toString(16)} do not fit in the file`);
    r.check(shoff, shnum * SHDR_SIZE, 'section header table');
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * SHDR_SIZE;
      const stype = r.u32(h + 4);
      const sflags = r.lo(h + 8);
      const offset = r.size64(h + 24, 'sh_offset', i);
      const size = r.size64(h + 32, 'sh_size', i);
      let data: Uint8Array = EMPTY;
      if (stype === SHT_NOBITS) {
        // .bss takes no file space, but a forged size must not make us allocate
        // gigabytes: the kernel caps a map value at KMALLOC_MAX_SIZE anyway.
        nobits += size;
        if (nobits > MAX_NOBITS) throw new ElfError(h + 32, `section ${i} (SHT_NOBITS) size ${size} is too large`, 'E2BIG');
        data = new Uint8Array(size);
      } else if (stype !== SHT_NULL) {
        if (!(offset + size <= bytes.length)) r.check(offset, size, `section ${i} contents at 0x${offset.toString(16)}`); // throws
        data = bytes.subarray(offset, offset + size);
      }
      sections.push({
        index: i,
        name: '',
        type: stype,
        flags: sflags,
        offset,
        size,
        link: r.u32(h + 40),
        info: r.u32(h + 44),
        addralign: r.size64(h + 48, 'sh_addralign', i),
        entsize: r.size64(h + 56, 'sh_entsize', i),
        data,
      });
    }
  }
  if (sections.length > 0) {
    if (shstrndx >= sections.length) throw new ElfError(62, `e_shstrndx ${shstrndx} is not a section (${sections.length} sections)`);
    const strtab = shstrndx === 0 ? undefined : sections[shstrndx];
    for (const s of sections) {
      const nameOff = r.u32(shoff + s.index * SHDR_SIZE);
      s.name = stringAt(strtab, nameOff, shoff + s.index * SHDR_SIZE, 'section', s.index);
    }
  }

  // Symbols: a relocatable object has at most one SHT_SYMTAB.
  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw new ElfError(shoff + symtabs[1]!.index * SHDR_SIZE, 'more than one symbol table');
  const symbols: ElfSymbol[] = [];
  const symtab = symtabs[0];
  if (symtab) {
    const hdr = shoff + symtab.index * SHDR_SIZE;
    if (symtab.entsize !== SYM_SIZE) throw new ElfError(hdr + 56, `symbol table entry size ${symtab.entsize} is not ${SYM_SIZE}`);
    if (symtab.size % SYM_SIZE !== 0) throw new ElfError(hdr + 32, `symbol table size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
    if (symtab.link >= sections.length) throw new ElfError(hdr + 40, `symbol string table ${symtab.link} is not a section`);
    const strtab = sections[symtab.link];
    const shndxSec = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
    const count = symtab.size / SYM_SIZE;
    for (let i = 0; i < count; i++) {
      const p = symtab.offset + i * SYM_SIZE;
      const info = r.u8(p + 4);
      let shndx = r.u16(p + 6);
      if (shndx === SHN_XINDEX) {
        if (!shndxSec || (i + 1) * 4 > shndxSec.size)
          throw new ElfError(p + 6, `symbol ${i} uses SHN_XINDEX without an SHT_SYMTAB_SHNDX entry`);
        shndx = r.u32(shndxSec.offset + i * 4);
      }
      symbols.push({
        index: i,
        name: stringAt(strtab, r.u32(p), p, 'symbol', i),
        // Values beyond 2^53 cannot be offsets into this file; keep them out of range.
        value: r.u64n(p + 8),
        size: r.u64n(p + 16),
        bind: info >> 4,
        type: info & 0xf,
        visibility: r.u8(p + 5) & 0x3,
        shndx,
      });
    }
  }

  const relocations = new Map<number, ElfRelocationSection[]>();
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const hdr = shoff + s.index * SHDR_SIZE;
    const rela = s.type === SHT_RELA;
    const esize = rela ? RELA_SIZE : REL_SIZE;
    if (s.entsize !== 0 && s.entsize !== esize) throw new ElfError(hdr + 56, `relocation section '${s.name}' entry size ${s.entsize} is not ${esize}`);
    if (s.size % esize !== 0) throw new ElfError(hdr + 32, `relocation section '${s.name}' size ${s.size} is not a multiple of ${esize}`);
    if (s.info === 0 || s.info >= sections.length)
      throw new ElfError(hdr + 44, `relocation section '${s.name}' applies to section ${s.info}, which does not exist`);
    if (!symtab || s.link !== symtab.index)
      throw new ElfError(hdr + 40, `relocation section '${s.name}' links to section ${s.link}, not the symbol table`);
    // Every entry is checked here, so a bad one is an error however the object is used, but
    // the entry objects are made when first asked for: Tracee's object has 190k entries in
    // .rel.BTF.ext (DWARF-style relocations no loader applies) beside 25k for its code.
    // The section's contents were checked against the file above, so fields are read directly.
    const n = s.size / esize;
    const dv = r.dv;
    const hiAt = le ? 4 : 0;
    const loAt = le ? 0 : 4;
    for (let i = 0; i < n; i++) {
      const p = s.offset + i * esize;
      if (dv.getUint32(p + hiAt, le) >= 0x200000) r.size64(p, `relocation ${i} of '${s.name}' r_offset`); // throws: past 2^53
      // r_info: symbol index in the high half, type in the low half
      const sym = dv.getUint32(p + 8 + hiAt, le);
      if (sym >= symbols.length) throw new ElfError(p + 8, `relocation ${i} of '${s.name}' refers to symbol ${sym}, past the ${symbols.length} symbols`);
    }
    let entries: ElfRelocation[] | undefined;
    const read = (): ElfRelocation[] => {
      const out: ElfRelocation[] = [];
      for (let i = 0; i < n; i++) {
        const p = s.offset + i * esize;
        const offset = dv.getUint32(p + hiAt, le) * 0x100000000 + dv.getUint32(p + loAt, le);
        const symbol = dv.getUint32(p + 8 + hiAt, le);
        const type = dv.getUint32(p + 8 + loAt, le);
        out.push(rela ? { offset, symbol, type, fileOffset: p, addend: BigInt.asIntN(64, dv.getBigUint64(p + 16, le)) } : { offset, symbol, type, fileOffset: p });
      }
      return out;
    };
    const list = relocations.get(s.info) ?? [];
    list.push({
      section: s,
      target: s.info,
      get entries() {
        return (entries ??= read());
      },
    });
    relocations.set(s.info, list);
  }

  return { endian: le ? 'le' : 'be', type, machine, flags, sections, symbols, relocations, bytes };
}

/**
 * The most SHT_NOBITS bytes (all sections together) we materialise. BPF global data becomes an
 * array map value, which the kernel limits (KMALLOC_MAX_SIZE, and
 * BPF_MAX_VAR_SIZ = 512 MiB for BTF); 64 MiB is far beyond any real .bss.
 */
export const MAX_NOBITS = 64 << 20;

/** The file offset of section `index`'s header, for error messages. */
export function sectionHeaderOffset(elf: ElfFile, index: number): number {
  const le = elf.endian === 'le';
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  return Number(dv.getBigUint64(40, le)) + index * SHDR_SIZE;
}
