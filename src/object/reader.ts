/**
 * Reading a BPF object file into a CollectionSpec, as libbpf's
 * bpf_object__open does (and cilium/ebpf's LoadCollectionSpec):
 *
 * 1. the ELF structure (elf.ts), license and kernel version;
 * 2. BTF and BTF.ext (object/btf), with DATASEC sizes and variable offsets
 *    filled in from the ELF sections and symbols, as libbpf's
 *    btf_fixup_datasec does (clang leaves them 0 in objects);
 * 3. maps (maps.ts): `.maps`, the legacy `maps` section, global data;
 * 4. functions: every STT_FUNC symbol of an executable section; those
 *    outside `.text` are programs, the others subprograms;
 * 5. relocations and linking (relocate.ts): each program gets the
 *    subprograms it reaches, with func_info / line_info / CO-RE records
 *    carried along to where the code landed.
 */
import { TsbpfError } from '../errors.js';
import { decode } from '../isa/insn.js';
// The BTF parser and BTF.ext only, not the index: its dumpers and codec are for other commands.
import { Btf } from './btf/btf.js';
import { parseBtfExt, type BtfExt, type BtfExtSection } from './btf/ext.js';
import {
  EM_BPF,
  EM_NONE,
  ET_REL,
  ElfError,
  SHF_EXECINSTR,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_NOTYPE,
  parseElf,
  sectionHeaderOffset,
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
} from './elf.js';
import { btfMaps, globalDataMaps, kconfigMap, mapInitialValues, BPF_OBJ_NAME_LEN, type MapLocation } from './maps.js';
import { legacyMaps, type LegacyLoader } from './legacy-maps.js';
import { indexContext, linkLayout, linkProgram, relocateFunc, MAX_LINKED_INSNS, type Func, type LinkLayout, type RelocContext } from './relocate.js';
import { matchSection } from './sections.js';
import { structOpsSlots } from './struct-ops.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from './spec.js';

export { objectNameFromPath, internalMapName } from './maps.js';

export interface ReadObjectOptions {
  /**
   * The object name (libbpf's bpf_object name): the prefix of global-data
   * map names (`<name>.rodata`). `loadObjectFile` derives it from the path.
   * Default: none, so global-data maps are called `.data`, `.rodata`, ...
   */
  name?: string;
  /** Throw for a program whose section names no program type, instead of recording `typeError`. */
  strict?: boolean;
  /**
   * Whose rules read what libbpf 1.x refuses (docs/objects.md). 'libbpf' (default): libbpf's,
   * with legacy `maps` records read as libbpf 0.x read them (their iproute2 `pinning` ignored).
   * 'iproute2': as tc's and ip's own loader (lib/bpf_legacy.c) did: PIN_GLOBAL_NS maps are
   * pinned by name (load with pinPath /sys/fs/bpf/tc/globals to share tc's pins), a static
   * function can be a program, and a code section without function symbols (clang before
   * it wrote STT_FUNC) is one program, named by its global symbol at offset 0 or by the section.
   */
  loader?: LegacyLoader;
}

/** Parse a BPF ELF object (the bytes are untrusted: every failure is a TsbpfError). */
export function readObject(bytes: Uint8Array, opts: ReadObjectOptions = {}): CollectionSpec {
  if (!(bytes instanceof Uint8Array)) throw new TsbpfError('EINVAL', 'readObject: expected a Uint8Array');
  const elf = parseElf(bytes);
  if (elf.type !== ET_REL) throw new ElfError(16, `e_type ${elf.type} is not ET_REL: BPF objects are relocatable (clang -c)`, 'ENOEXEC');
  if (elf.machine !== EM_BPF && elf.machine !== EM_NONE)
    throw new ElfError(18, `e_machine ${elf.machine} is not EM_BPF (${EM_BPF})`, 'ENOEXEC');
  const objectName = (opts.name ?? '').slice(0, BPF_OBJ_NAME_LEN - 1);

  const license = readLicense(elf);
  const kernelVersion = readVersion(elf);
  const { btf, ext } = readBtf(elf);

  // Maps
  const maps: MapLocation[] = [];
  const mapsSec = elf.sections.find((s) => s.name === '.maps');
  if (mapsSec) maps.push(...btfMaps(elf, mapsSec, btf));
  const legacySec = elf.sections.find((s) => s.name === 'maps');
  if (legacySec) maps.push(...legacyMaps(elf, legacySec, opts.loader));
  const data = globalDataMaps(elf, objectName, btf);
  const kconfig = kconfigMap(objectName, btf);
  const seen = new Set<string>();
  for (const m of [...maps, ...data, ...(kconfig ? [{ spec: kconfig.spec }] : [])]) {
    if (seen.has(m.spec.name)) throw new TsbpfError('EEXIST', `two maps are named '${m.spec.name}'`);
    seen.add(m.spec.name);
  }

  // Functions
  const funcs = collectFuncs(elf, opts.loader ?? 'libbpf');
  if (btf) markHiddenFuncsStatic(elf, btf);
  const ctx: RelocContext = { elf, funcs, maps, dataMaps: new Map(data.map((d) => [d.section, d])) };
  if (kconfig) ctx.kconfig = { map: kconfig.spec.name, offsets: kconfig.offsets };
  if (btf) ctx.externFuncs = new Set(btf.types.flatMap((t) => (t.kind === 'func' && t.linkage === 'extern' ? [t.name] : [])));
  indexContext(ctx);
  for (const [secIdx, list] of funcs) {
    const relocs = codeRelocations(elf, secIdx);
    for (const fn of list) relocateFunc(fn, relocs, ctx);
  }
  if (mapsSec) {
    const programSymbols = new Set([...funcs.values()].flat().filter((f) => f.isProgram).map((f) => f.symbol));
    mapInitialValues(elf, mapsSec, maps, (sym) => programSymbols.has(sym));
  }

  // Programs. Appending subprograms copies them into every program that
  // calls them; a forged object could make that quadratic, so the total is
  // capped (far above what real objects need).
  const programs = new Map<string, ProgramSpec>();
  let budget = MAX_OBJECT_INSNS;
  for (const list of funcs.values()) {
    for (const fn of list) {
      if (!fn.isProgram) continue;
      if (programs.has(fn.name)) throw new TsbpfError('EEXIST', `two programs are named '${fn.name}'`);
      const { prog, size } = makeProgram(fn, license, kernelVersion, ext, opts.strict ?? false, Math.min(budget, MAX_LINKED_INSNS));
      budget -= size;
      programs.set(fn.name, prog);
    }
  }

  // struct_ops programs: the ops struct member each fills (the kernel's attach_btf_id and expected_attach_type)
  for (const [name, slot] of structOpsSlots(elf, btf)) {
    const p = programs.get(name);
    if (p?.type === 'struct_ops') p.structOps = slot;
  }

  const mapSpecs = new Map<string, MapSpec>();
  for (const m of [...maps, ...data]) mapSpecs.set(m.spec.name, m.spec);
  if (kconfig) mapSpecs.set(kconfig.spec.name, kconfig.spec);
  const spec: CollectionSpec = { objectName, programs, maps: mapSpecs, endian: elf.endian };
  if (btf) spec.btf = btf;
  return spec;
}

function readLicense(elf: ElfFile): string {
  const sec = elf.sections.find((s) => s.name === 'license');
  if (!sec) return '';
  // libbpf copies up to the first NUL or the section's end.
  const end = sec.data.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? sec.data.subarray(0, end) : sec.data);
}

function readVersion(elf: ElfFile): number | undefined {
  const sec = elf.sections.find((s) => s.name === 'version');
  if (!sec) return undefined;
  if (sec.size !== 4) throw new ElfError(sectionHeaderOffset(elf, sec.index), `section 'version' is ${sec.size} bytes, expected 4`);
  return new DataView(sec.data.buffer, sec.data.byteOffset, 4).getUint32(0, elf.endian === 'le');
}

function readBtf(elf: ElfFile): { btf?: Btf; ext?: BtfExt } {
  const sec = elf.sections.find((s) => s.name === '.BTF');
  if (!sec) return {};
  const btf = Btf.parse(sec.data, elf.endian);
  fixupDatasecs(elf, btf);
  const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
  return extSec ? { btf, ext: parseBtfExt(extSec.data, elf.endian, btf) } : { btf };
}

/**
 * clang writes DATASEC size 0 and (for global variables) offset 0 into
 * objects; the section and symbol tables have the truth. libbpf patches the
 * BTF the same way before loading it.
 */
function fixupDatasecs(elf: ElfFile, btf: Btf): void {
  const sections = new Map<string, number>();
  for (const s of elf.sections) if (!sections.has(s.name)) sections.set(s.name, s.index);
  const symbols = new Map<string, number>();
  for (const s of elf.symbols) if (s.type !== STT_FUNC && s.name) symbols.set(`${s.shndx}\0${s.name}`, s.value);
  for (const t of btf.types) {
    if (t.kind !== 'datasec') continue;
    const idx = sections.get(t.name);
    if (idx === undefined) continue;
    if (t.size === 0) t.size = elf.sections[idx]!.size;
    for (const v of t.vars) {
      const vt = btf.types[v.typeId];
      if (!vt || vt.kind !== 'var') continue;
      const value = symbols.get(`${idx}\0${vt.name}`);
      if (value !== undefined) v.offset = value;
    }
  }
}

const STV_INTERNAL = 1;
const STV_HIDDEN = 2;

/**
 * A global function of `.text` with hidden (or internal) visibility —
 * `__hidden`, as in libbpf's usdt.bpf.h — cannot be called from outside
 * the object, so libbpf rewrites its BTF FUNC linkage to static before
 * loading (bpf_object__add_programs sets mark_btf_static, applied when the
 * BTF is sanitised). The kernel then verifies it with its caller's state,
 * as a static function, not once on its own against its prototype as a
 * global one. tsbpf follows, so its verdicts on such objects are Linux's.
 */
function markHiddenFuncsStatic(elf: ElfFile, btf: Btf): void {
  const text = elf.sections.find((s) => s.name === '.text');
  if (!text) return;
  for (const sym of elf.symbols) {
    if (sym.type !== STT_FUNC || sym.shndx !== text.index || sym.bind === STB_LOCAL) continue;
    if (sym.visibility !== STV_HIDDEN && sym.visibility !== STV_INTERNAL) continue;
    const t = btf.typeByName(sym.name, 'func');
    if (t && t.kind === 'func') t.linkage = 'static';
  }
}

/** Every STT_FUNC symbol of every non-empty executable section, by section. */
function collectFuncs(elf: ElfFile, loader: LegacyLoader): Map<number, Func[]> {
  const out = new Map<number, Func[]>();
  const bySection = new Map<number, ElfSymbol[]>();
  for (const sym of elf.symbols) {
    if (sym.type !== STT_FUNC) continue;
    const l = bySection.get(sym.shndx);
    if (l) l.push(sym);
    else bySection.set(sym.shndx, [sym]);
  }
  for (const sec of elf.sections) {
    if (sec.type !== SHT_PROGBITS || !(sec.flags & SHF_EXECINSTR) || sec.size === 0) continue;
    const hdr = sectionHeaderOffset(elf, sec.index);
    if (sec.size % 8 !== 0) throw new ElfError(hdr + 32, `code section '${sec.name}' is ${sec.size} bytes, not a multiple of 8`);
    // decoded once a section, and each function's slots copied: measured faster than decoding
    // each function's own bytes (cold, Tracee's object)
    const code = decode(sec.data, elf.endian);
    const isText = sec.name === '.text';
    const list: Func[] = [];
    const syms = bySection.get(sec.index) ?? [];
    if (!syms.length && !isText && loader === 'iproute2') syms.push(sectionProgramSymbol(elf, sec));
    for (const sym of syms) {
      const where = `function '${sym.name}' in '${sec.name}'`;
      if (sym.value % 8 !== 0 || sym.size % 8 !== 0) throw new ElfError(hdr, `${where} at byte ${sym.value}, ${sym.size} bytes, is not slot-aligned`);
      if (sym.size === 0) throw new ElfError(hdr, `${where} has size 0`);
      if (sym.value > sec.size || sym.size > sec.size - sym.value) throw new ElfError(hdr, `${where} [${sym.value}, +${sym.size}) crosses the section's end (${sec.size} bytes)`);
      // libbpf refuses static functions as programs ("sec '%s': program '%s' is static and not
      // supported", bpf_object__add_programs); iproute2's loader took a section whatever its symbols.
      if (!isText && sym.bind === STB_LOCAL && loader !== 'iproute2')
        throw new TsbpfError('ENOTSUPP', `program '${sym.name}' in section '${sec.name}' is static and not supported by libbpf 1.x: programs must be global functions (iproute2's loader took it: { loader: 'iproute2' }, --iproute2)`);
      const start = sym.value / 8;
      const length = sym.size / 8;
      list.push({
        name: sym.name,
        section: sec,
        start,
        length,
        isProgram: !isText,
        symbol: sym,
        insns: code.slice(start, start + length).map((i) => ({ ...i })),
        references: [],
        calls: [],
      });
    }
    list.sort((a, b) => a.start - b.start);
    if (list.length) out.set(sec.index, list);
  }
  return out;
}

/**
 * iproute2's loader made a program of a whole code section (bpf_fetch_prog), so objects from
 * clang that wrote no STT_FUNC symbols still load there: the section is one function, named
 * by the global symbol at its start (samples/bpf's `bpf_prog1` in `socket1`) or by the section.
 */
function sectionProgramSymbol(elf: ElfFile, sec: ElfSection): ElfSymbol {
  const named = elf.symbols.find((s) => s.shndx === sec.index && s.value === 0 && s.bind !== STB_LOCAL && s.type === STT_NOTYPE && s.name !== '');
  if (named) return { ...named, size: sec.size };
  return { index: -1, name: sec.name, value: 0, size: sec.size, bind: STB_GLOBAL, type: STT_FUNC, visibility: 0, shndx: sec.index };
}

/** The relocations of a code section by slot index (an array over the section's slots: Tracee's sections hold 200k). */
function codeRelocations(elf: ElfFile, secIdx: number): Array<ElfRelocation | undefined> {
  const sec = elf.sections[secIdx]!;
  // filled, not new Array(n): a large n makes a slow dictionary array in V8
  const out: Array<ElfRelocation | undefined> = [];
  for (let i = sec.size / 8; i > 0; i--) out.push(undefined);
  for (const rs of elf.relocations.get(secIdx) ?? []) {
    for (const rel of rs.entries) {
      if (rel.offset % 8 !== 0 || rel.offset >= sec.size)
        throw new ElfError(rel.fileOffset, `relocation at byte ${rel.offset} of '${sec.name}' is not on an instruction of the section (${sec.size} bytes)`);
      const slot = rel.offset / 8;
      if (out[slot]) throw new ElfError(rel.fileOffset, `two relocations for instruction ${slot} of '${sec.name}'`);
      out[slot] = rel;
    }
  }
  return out;
}

const sortedCache = new WeakMap<BtfExt, Map<string, BtfExtSection | undefined>>();
/** A section's BTF.ext records sorted by instruction (clang sorts them; a forged file may not). */
function sortedExt(ext: BtfExt, section: string): BtfExtSection | undefined {
  let cache = sortedCache.get(ext);
  if (!cache) sortedCache.set(ext, (cache = new Map()));
  if (!cache.has(section)) {
    const r = ext.sections.get(section);
    cache.set(section, r && { ...r, funcInfo: sortedByInsn(r.funcInfo), lineInfo: sortedByInsn(r.lineInfo), coreRelos: sortedByInsn(r.coreRelos) });
  }
  return cache.get(section);
}

/** The list itself when already in order (as clang writes it), else a sorted copy (a stable sort: equal offsets keep their order). */
function sortedByInsn<T extends { insnOff: number }>(list: T[]): T[] {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.insnOff > list[i]!.insnOff) return [...list].sort((a, b) => a.insnOff - b.insnOff);
  return list;
}

/** The index of the first record with insnOff >= x in a sorted list (binary search, so linking stays linear). */
function firstAt(list: readonly { insnOff: number }[], x: number): number {
  let a = 0;
  let b = list.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (list[m]!.insnOff < x) a = m + 1;
    else b = m;
  }
  return a;
}

/** The records with lo <= insnOff < hi of a sorted list. */
function slice<T extends { insnOff: number }>(list: readonly T[], lo: number, hi: number): readonly T[] {
  return list.slice(firstAt(list, lo), firstAt(list, hi));
}

/** Has a sorted list a record with lo <= insnOff < hi? */
const anyIn = (list: readonly { insnOff: number }[], lo: number, hi: number): boolean => firstAt(list, lo) < firstAt(list, hi);

/** The most instructions all programs of one object may add up to, subprograms appended. */
export const MAX_OBJECT_INSNS = 4_000_000;

/**
 * A program's spec. Its linked instructions, references and BTF.ext records are made when one
 * of them is first read (each program of Tracee's 13 MB object copies its subprograms: 430k
 * instructions and 150k line records in all, most of the cost of opening it, and a command
 * usually wants one program). Everything that can fail is decided here, at open: the linked
 * length is known from the layout (linkLayout), and which record lists are non-empty, so the
 * spec has the same keys, in the same order, as when all was copied at once.
 */
function makeProgram(fn: Func, license: string, kernelVersion: number | undefined, ext: BtfExt | undefined, strict: boolean, limit: number): { prog: ProgramSpec; size: number } {
  const { layout, total } = linkLayout(fn, limit);
  const match = matchSection(fn.section.name);
  if (!match && strict)
    throw new TsbpfError('EINVAL', `program '${fn.name}': section '${fn.section.name}' names no program type`);
  let prepared: PreparedProgram | undefined;
  const prepare = (): PreparedProgram => (prepared ??= prepareProgram(fn, layout, ext));
  const prog = {
    name: fn.name,
    section: fn.section.name,
    type: match?.def.type ?? 'unspec',
    license,
  } as ProgramSpec;
  lazy(prog, 'insns', () => prepare().insns);
  lazy(prog, 'references', () => prepare().references);
  // libbpf 1.x opens such a program with no type (BPF_PROG_TYPE_UNSPEC) and refuses to load it, in these words
  if (!match) prog.typeError = `missing BPF prog type, check ELF section name '${fn.section.name}' (section '${fn.section.name}' names no program type as libbpf 1.x names them: xdp, tc, kprobe/..., ...)`;
  if (match?.def.attachType) prog.attachType = match.def.attachType;
  if (match?.attachTo) prog.attachTo = match.attachTo;
  if (match?.def.sleepable) prog.sleepable = true;
  if (match?.def.xdpFrags) prog.xdpFrags = true;
  if (kernelVersion !== undefined) prog.kernelVersion = kernelVersion;
  if (ext) {
    const has = { funcInfo: false, lineInfo: false, coreRelos: false };
    for (const { func } of layout) {
      const recs = sortedExt(ext, func.section.name);
      if (!recs) continue;
      const hi = func.start + func.length;
      has.funcInfo ||= anyIn(recs.funcInfo, func.start, hi);
      has.lineInfo ||= anyIn(recs.lineInfo, func.start, hi);
      has.coreRelos ||= anyIn(recs.coreRelos, func.start, hi);
    }
    if (has.funcInfo) lazy(prog, 'funcInfo', () => prepare().funcInfo);
    if (has.lineInfo) lazy(prog, 'lineInfo', () => prepare().lineInfo);
    if (has.coreRelos) lazy(prog, 'coreRelos', () => prepare().coreRelos);
  }
  return { prog, size: total };
}

type PreparedProgram = Required<Pick<ProgramSpec, 'insns' | 'references' | 'funcInfo' | 'lineInfo' | 'coreRelos'>>;

/** The linked program and its BTF.ext records moved to where each function landed. */
function prepareProgram(fn: Func, layout: LinkLayout, ext: BtfExt | undefined): PreparedProgram {
  const linked = linkProgram(fn, MAX_LINKED_INSNS, layout);
  const funcInfo: PreparedProgram['funcInfo'] = [];
  const lineInfo: PreparedProgram['lineInfo'] = [];
  const coreRelos: PreparedProgram['coreRelos'] = [];
  for (const { func, offset } of ext ? layout : []) {
    const recs = sortedExt(ext!, func.section.name);
    if (!recs) continue;
    const lo = func.start;
    const hi = func.start + func.length;
    const at = (insnOff: number): number => insnOff - lo + offset;
    for (const r of slice(recs.funcInfo, lo, hi)) funcInfo.push({ ...r, insnOff: at(r.insnOff) });
    for (const r of slice(recs.lineInfo, lo, hi)) lineInfo.push({ ...r, insnOff: at(r.insnOff) });
    for (const r of slice(recs.coreRelos, lo, hi)) coreRelos.push({ ...r, insnOff: at(r.insnOff), func: func.name });
  }
  return { insns: linked.insns, references: linked.references, funcInfo, lineInfo, coreRelos };
}

/**
 * An enumerable property computed when first read (or replaced when first written): it reads
 * and spreads, clones and compares as a plain one.
 */
function lazy<K extends keyof ProgramSpec>(obj: ProgramSpec, key: K, get: () => ProgramSpec[K]): void {
  const settle = (value: ProgramSpec[K]): ProgramSpec[K] => {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(obj, key, { get: () => settle(get()), set: settle, enumerable: true, configurable: true });
}
