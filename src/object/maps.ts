/**
 * Map definitions from every source clang produces:
 *
 * - BTF-defined maps in `.maps`: each variable's BTF type is a struct whose
 *   members encode the attributes (libbpf's bpf_helpers.h macros):
 *   `__uint(name, N)` is `int (*name)[N]` (a pointer to an array of N
 *   elements), `__type(name, T)` is `T *name`, `__array(name, T)` is
 *   `T *name[]`. Initial `values` slots are relocations (R_BPF_64_ABS64, or R_BPF_64_64 from older clang) in
 *   `.rel.maps` at the slot's offset.
 * - the legacy `maps` section (legacy-maps.ts): `struct bpf_map_def` or
 *   iproute2's `struct bpf_elf_map` records, one per symbol.
 * - global data (`.data`, `.rodata`, `.bss`, `.data.*`, `.rodata.*`,
 *   `.bss.*`): one single-entry array map per section, value = the section.
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from './btf/index.js';
import type { BtfType, StructType } from './btf/index.js';
import {
  ElfError,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  STT_FILE,
  STT_SECTION,
  SHF_EXECINSTR,
  sectionHeaderOffset,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
} from './elf.js';
import { MapType, type MapContent, type MapSpec, type MapTypeName, type Pinning } from './spec.js';

/** A map definition problem: the map and what is wrong with it. */
export class MapDefinitionError extends TsbpfError {
  constructor(
    readonly map: string,
    readonly reason: string,
    errno: 'EINVAL' | 'ENOTSUPP' | 'E2BIG' | 'ESRCH' = 'EINVAL',
  ) {
    super(errno, `map '${map}': ${reason}`);
  }
}

/** BPF_OBJ_NAME_LEN: kernel object names hold 15 characters and a NUL. */
export const BPF_OBJ_NAME_LEN = 16;
export const BPF_F_NO_PREALLOC = 0x1;
export const BPF_F_RDONLY_PROG = 0x80;
export const BPF_F_MMAPABLE = 0x400;
/** libbpf's LIBBPF_PIN_BY_NAME */
const LIBBPF_PIN_NONE = 0;
const LIBBPF_PIN_BY_NAME = 1;

const MAP_TYPE_NAMES = new Map<number, MapTypeName>(Object.entries(MapType).map(([k, v]) => [v, k as MapTypeName]));

/** The bpftool name of a map type number, or `unknown(N)` as bpftool prints unknown ones. */
export function mapTypeName(n: number): MapTypeName | undefined {
  return MAP_TYPE_NAMES.get(n);
}

/**
 * The map as libbpf creates it from its declaration: a perf_event_array
 * declared without max_entries gets one slot per possible CPU (libbpf
 * map_set_def_max_entries, applied before a pinned map is reused or a new one
 * created). Both runtimes create maps through this.
 */
export function mapAsCreated(ms: MapSpec, numCpus: number): MapSpec {
  if (ms.type === 'perf_event_array' && ms.maxEntries === 0) return { ...ms, maxEntries: numCpus };
  return ms;
}

/** Where a map's definition lives in the object, so relocations can find it. */
export interface MapLocation {
  spec: MapSpec;
  section: number;
  offset: number;
  size: number;
  /** BTF-defined prog_array / map-in-map: byte offset of `values` in the definition */
  valuesOffset?: number;
}

export type DataKind = 'data' | 'rodata' | 'bss';

/** Which global-data kind a section is, by libbpf's rules (name and type), or undefined. */
function dataSectionKind(sec: ElfSection): DataKind | undefined {
  const n = sec.name;
  if (sec.type === SHT_PROGBITS && !(sec.flags & SHF_EXECINSTR)) {
    if (n === '.data' || n.startsWith('.data.')) return 'data';
    if (n === '.rodata' || n.startsWith('.rodata.')) return 'rodata';
  }
  if (sec.type === SHT_NOBITS && (n === '.bss' || n.startsWith('.bss.'))) return 'bss';
  return undefined;
}

/**
 * The object name as libbpf derives it from a file path: the base name,
 * cut to 15 characters (it is copied into a BPF_OBJ_NAME_LEN buffer), then
 * cut at the first dot (`xdp_firewall.bpfeb.o` -> `xdp_firewall`).
 */
export function objectNameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).slice(0, BPF_OBJ_NAME_LEN - 1);
  const dot = base.indexOf('.');
  return dot >= 0 ? base.slice(0, dot) : base;
}

/**
 * The map name libbpf gives a global-data section (internal_map_name):
 * the suffix is the section name, with at least 7 characters reserved for
 * it (so `.bss` leaves the same object prefix as `.rodata`), cut to 15;
 * a section name with a second dot (`.data.hist`) is a custom section and
 * gets no prefix; the prefix is as much of the object name as fits in the
 * 15 characters. Characters the kernel refuses in names become `_`.
 */
export function internalMapName(objectName: string, sectionName: string): string {
  const max = BPF_OBJ_NAME_LEN - 1;
  const sfxLen = Math.min(Math.max(7, sectionName.length), max);
  const custom = sectionName.indexOf('.', 1) >= 0;
  const pfxLen = custom ? 0 : Math.min(max - sfxLen, objectName.length);
  const name = (objectName.slice(0, pfxLen) + sectionName.slice(0, sfxLen)).slice(0, max);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** Global data sections as single-entry array maps holding their initial contents. */
export function globalDataMaps(elf: ElfFile, objectName: string, btf: Btf | undefined): MapLocation[] {
  const out: MapLocation[] = [];
  for (const sec of elf.sections) {
    const kind = dataSectionKind(sec);
    // libbpf skips recognised sections of size 0: nothing can reference them.
    if (!kind || sec.size === 0) continue;
    const name = internalMapName(objectName, sec.name);
    const spec: MapSpec = {
      name,
      type: 'array',
      keySize: 4,
      valueSize: sec.size,
      maxEntries: 1,
      // libbpf makes global data mmap-able (the skeleton maps it) and read-only
      // for programs in the case of .rodata; the kernel then lets the verifier
      // treat loads from frozen .rodata as known constants.
      flags: BPF_F_MMAPABLE | (kind === 'rodata' ? BPF_F_RDONLY_PROG : 0),
      pinning: 'none',
      section: sec.name,
    };
    if (kind !== 'bss') spec.contents = [{ key: new Uint8Array(4), value: sec.data.slice() }];
    if (kind === 'rodata') spec.freeze = true;
    const ds = btf?.typeByName(sec.name, 'datasec');
    if (ds) spec.btfValueTypeId = ds.id;
    out.push({ spec, section: sec.index, offset: 0, size: sec.size });
  }
  return out;
}

/** Symbols defined in section `index` that name objects (not the section or file symbols). */
export function objectSymbols(elf: ElfFile, index: number): ElfSymbol[] {
  return elf.symbols.filter((s) => s.shndx === index && s.type !== STT_SECTION && s.type !== STT_FILE && s.name !== '');
}

interface ParsedDef {
  type?: number;
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  flags?: number;
  numaNode?: number;
  pinning?: number;
  mapExtra?: bigint;
  keyTypeId?: number;
  valueTypeId?: number;
  /** byte offset of the `values` member and what its pointers point at */
  values?: { byteOffset: number; targetId: number };
}

/**
 * The integer a `__uint(name, N)` member encodes: a pointer to an array of
 * N elements; `__ulong(name, N)` (64-bit map_extra) is a pointer to an enum
 * (or enum64) whose single value is N.
 */
function memberInt(btf: Btf, map: string, member: string, typeId: number): bigint {
  const ptr = btf.typeById(btf.resolve(typeId));
  if (ptr.kind !== 'ptr') throw new MapDefinitionError(map, `attribute '${member}' is a ${ptr.kind}, not a pointer (use __uint)`);
  const target = btf.typeById(btf.resolve(ptr.typeId));
  if (target.kind === 'array') return BigInt(target.nelems);
  if ((target.kind === 'enum' || target.kind === 'enum64') && target.values.length === 1) return BigInt(target.values[0]!.value);
  throw new MapDefinitionError(map, `attribute '${member}' points to a ${target.kind}, not an array (use __uint)`);
}

function small(map: string, member: string, v: bigint): number {
  if (v > 0xffffffffn) throw new MapDefinitionError(map, `attribute '${member}' value ${v} does not fit in 32 bits`);
  return Number(v);
}

function parseDef(btf: Btf, name: string, st: StructType, inner: boolean): ParsedDef {
  const def: ParsedDef = {};
  for (const m of st.members) {
    if (m.bitOffset % 8 !== 0) throw new MapDefinitionError(name, `attribute '${m.name}' is not byte-aligned`);
    switch (m.name) {
      case 'type':
        def.type = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        break;
      case 'max_entries':
        def.maxEntries = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        break;
      case 'map_flags':
        def.flags = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        break;
      case 'numa_node':
        def.numaNode = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        break;
      case 'map_extra':
        def.mapExtra = memberInt(btf, name, m.name, m.typeId);
        break;
      case 'pinning':
        if (inner) throw new MapDefinitionError(name, 'an inner map definition cannot be pinned');
        def.pinning = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        break;
      case 'key_size':
      case 'value_size': {
        const v = small(name, m.name, memberInt(btf, name, m.name, m.typeId));
        const have = m.name === 'key_size' ? def.keySize : def.valueSize;
        if (have !== undefined && have !== v) throw new MapDefinitionError(name, `conflicting ${m.name}: ${have} from its type, ${v} given`);
        if (m.name === 'key_size') def.keySize = v;
        else def.valueSize = v;
        break;
      }
      case 'key':
      case 'value': {
        const ptr = btf.typeById(btf.resolve(m.typeId));
        if (ptr.kind !== 'ptr') throw new MapDefinitionError(name, `'${m.name}' is a ${ptr.kind}, not a pointer (use __type)`);
        const size = btf.sizeof(ptr.typeId);
        const key = m.name === 'key';
        const have = key ? def.keySize : def.valueSize;
        if (have !== undefined && have !== size) throw new MapDefinitionError(name, `conflicting ${m.name} size: ${have} given, its type is ${size} bytes`);
        if (key) {
          def.keySize = size;
          def.keyTypeId = ptr.typeId;
        } else {
          def.valueSize = size;
          def.valueTypeId = ptr.typeId;
        }
        break;
      }
      case 'values': {
        if (inner) throw new MapDefinitionError(name, 'an inner map definition cannot have values of its own');
        // __array(values, T): an array (usually of 0 elements) of pointers to T.
        const arr = btf.typeById(btf.resolve(m.typeId));
        if (arr.kind !== 'array') throw new MapDefinitionError(name, `'values' is a ${arr.kind}, not an array (use __array)`);
        const ptr = btf.typeById(btf.resolve(arr.elemTypeId));
        if (ptr.kind !== 'ptr') throw new MapDefinitionError(name, `'values' elements are ${ptr.kind}s, not pointers (use __array)`);
        def.values = { byteOffset: m.bitOffset / 8, targetId: ptr.typeId };
        break;
      }
      default:
        // libbpf (strict mode, the only mode since 1.0) refuses unknown attributes.
        throw new MapDefinitionError(name, `unknown attribute '${m.name}'`);
    }
  }
  return def;
}

function specFromDef(name: string, def: ParsedDef): MapSpec {
  if (def.type === undefined) throw new MapDefinitionError(name, "no 'type' attribute");
  const type = mapTypeName(def.type);
  if (!type) throw new MapDefinitionError(name, `unknown map type ${def.type}`);
  let pinning: Pinning = 'none';
  if (def.pinning !== undefined && def.pinning !== LIBBPF_PIN_NONE) {
    // libbpf parse_btf_map_def: "map '%s': invalid pinning value %u." (EINVAL)
    if (def.pinning !== LIBBPF_PIN_BY_NAME) throw new MapDefinitionError(name, `invalid pinning value ${def.pinning} (libbpf knows LIBBPF_PIN_NONE 0 and LIBBPF_PIN_BY_NAME 1)`);
    pinning = 'by_name';
  }
  const spec: MapSpec = {
    name,
    type,
    keySize: def.keySize ?? 0,
    valueSize: def.valueSize ?? 0,
    maxEntries: def.maxEntries ?? 0,
    flags: def.flags ?? 0,
    pinning,
  };
  if (def.keyTypeId !== undefined) spec.btfKeyTypeId = def.keyTypeId;
  if (def.valueTypeId !== undefined) spec.btfValueTypeId = def.valueTypeId;
  if (def.numaNode !== undefined) spec.numaNode = def.numaNode;
  if (def.mapExtra !== undefined) spec.mapExtra = def.mapExtra;
  return spec;
}

const isMapInMap = (t: MapTypeName): boolean => t === 'array_of_maps' || t === 'hash_of_maps';

function structOf(btf: Btf, id: number, map: string, what: string): StructType {
  const t: BtfType = btf.typeById(btf.resolve(id));
  if (t.kind !== 'struct') throw new MapDefinitionError(map, `${what} is a ${t.kind}, not a struct`);
  return t;
}

/**
 * BTF-defined maps: the `.maps` DATASEC's variables, each located by its
 * ELF symbol (clang leaves DATASEC offsets 0 in objects; libbpf fills them
 * in from the symbols too).
 */
export function btfMaps(elf: ElfFile, sec: ElfSection, btf: Btf | undefined): MapLocation[] {
  const symbols = objectSymbols(elf, sec.index);
  if (symbols.length === 0) return [];
  if (!btf) throw new ElfError(sectionHeaderOffset(elf, sec.index), "section '.maps' needs BTF to describe its maps (build with clang -g)");
  const ds = btf.typeByName('.maps', 'datasec');
  if (!ds || ds.kind !== 'datasec') throw new ElfError(sectionHeaderOffset(elf, sec.index), "BTF has no DATASEC '.maps' describing section '.maps'");
  const bySymbol = new Map(symbols.map((s) => [s.name, s]));
  const out: MapLocation[] = [];
  for (const v of ds.vars) {
    const vt = btf.typeById(v.typeId);
    if (vt.kind !== 'var') throw new MapDefinitionError(`#${v.typeId}`, `DATASEC '.maps' entry is a ${vt.kind}, not a var`);
    const name = vt.name;
    const sym = bySymbol.get(name);
    if (!sym) throw new MapDefinitionError(name, "no ELF symbol in '.maps' for this map");
    const st = structOf(btf, vt.typeId, name, 'the map definition');
    const size = sym.size || v.size || st.size;
    if (sym.value > sec.size || size > sec.size - sym.value)
      throw new ElfError(sec.offset + Math.min(sym.value, sec.size), `map '${name}' [${sym.value}, +${size}) is outside section '.maps' (${sec.size} bytes)`);
    const def = parseDef(btf, name, st, false);
    const spec = specFromDef(name, def);
    if (def.values) {
      const target = btf.typeById(btf.resolve(def.values.targetId));
      if (isMapInMap(spec.type)) {
        if (target.kind !== 'struct') throw new MapDefinitionError(name, `'values' of a map-in-map must point to a map definition struct, not a ${target.kind}`);
        // An inline inner definition has no name of its own: libbpf calls it "<outer>.inner".
        spec.innerMap = specFromDef(`${name}.inner`, parseDef(btf, `${name}.inner`, target, true));
      } else if (spec.type === 'prog_array') {
        if (target.kind !== 'func_proto') throw new MapDefinitionError(name, `'values' of a prog_array must be function pointers, not ${target.kind}s`);
      } else {
        throw new MapDefinitionError(name, `'values' is only allowed for prog_array and map-in-map types, not ${spec.type}`, 'ENOTSUPP');
      }
      // The kernel stores a program or map fd (a u32) per slot.
      if (spec.valueSize !== 0 && spec.valueSize !== 4) throw new MapDefinitionError(name, `conflicting value size ${spec.valueSize}: slots hold 4-byte ids`);
      spec.valueSize = 4;
      if (spec.keySize === 0) spec.keySize = 4;
    }
    // A map-in-map without `values` is allowed, as in libbpf: the inner map
    // template is then given at load time (bpf_map__set_inner_map_fd).
    const loc: MapLocation = { spec, section: sec.index, offset: sym.value, size };
    if (def.values) loc.valuesOffset = def.values.byteOffset;
    out.push(loc);
  }
  return out;
}

/**
 * Initial `values` slots of prog arrays and map-in-maps: each relocation
 * relocation in `.rel.maps` inside a map's `values` member fills slot
 * (offset - start of values) / 8 with the program or map its symbol names.
 */
export function mapInitialValues(elf: ElfFile, sec: ElfSection, maps: MapLocation[], isProgram: (sym: ElfSymbol) => boolean): void {
  const relSecs = elf.relocations.get(sec.index) ?? [];
  // maps in this section by offset, for a binary search per relocation
  const here = maps.filter((m) => m.section === sec.index).sort((a, b) => a.offset - b.offset);
  const at = new Map(maps.map((m) => [`${m.section}:${m.offset}`, m]));
  const containing = (off: number): MapLocation | undefined => {
    let lo = 0;
    let hi = here.length - 1;
    let best: MapLocation | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (here[mid]!.offset <= off) {
        best = here[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best && off < best.offset + best.size ? best : undefined;
  };
  for (const rs of relSecs) {
    for (const rel of rs.entries) {
      const loc = containing(rel.offset);
      if (!loc) throw new ElfError(rel.fileOffset, `relocation at offset ${rel.offset} of '.maps' is in no map`);
      const name = loc.spec.name;
      const valuesAt = loc.valuesOffset;
      if (valuesAt === undefined) throw new MapDefinitionError(name, `relocation at offset ${rel.offset - loc.offset} of its definition, but it has no 'values'`);
      // The relocation's type is not checked, as libbpf's bpf_object__collect_map_relos does not:
      // older clang wrote R_BPF_64_64 (type 1) for these slots (ebpf-samples build/map_in_map.o), clang 19 R_BPF_64_ABS64.
      const rel0 = rel.offset - loc.offset - valuesAt;
      if (rel0 < 0 || rel0 % 8 !== 0) throw new MapDefinitionError(name, `initial value relocation at offset ${rel.offset - loc.offset} is not a slot of 'values'`);
      const index = rel0 / 8;
      if (index >= loc.spec.maxEntries) throw new MapDefinitionError(name, `initial value for slot ${index} but max_entries is ${loc.spec.maxEntries}`, 'E2BIG');
      const sym = elf.symbols[rel.symbol]!;
      let content: MapContent;
      if (loc.spec.type === 'prog_array') {
        // libbpf: ESRCH ".maps relo #N: 'NAME' isn't a valid program reference" (a subprogram of .text is not one)
        if (sym.shndx === SHN_UNDEF || !isProgram(sym))
          throw new MapDefinitionError(name, `slot ${index} refers to '${sym.name}', which isn't a valid program reference (not an entry-point program of this object)`, 'ESRCH');
        content = { index, program: sym.name };
      } else {
        const inner = at.get(`${sym.shndx}:${sym.value}`);
        if (!inner) throw new MapDefinitionError(name, `slot ${index} refers to '${sym.name}', which isn't a BTF-defined map of this object`, 'ESRCH');
        content = { index, map: inner.spec.name };
      }
      (loc.spec.contents ??= []).push(content);
    }
  }
}

/**
 * The `.kconfig` map: libbpf gathers the `__kconfig` externs (listed in the
 * BTF DATASEC `.kconfig`) into one read-only single-entry array, laid out by
 * descending alignment, then ascending size, then name, and fills in their
 * values (from the kernel config and version) before freezing it. The
 * runtime fills `externs`; the object only knows the layout.
 */
export function kconfigMap(objectName: string, btf: Btf | undefined): { spec: MapSpec; offsets: Map<string, number> } | undefined {
  const ds = btf?.typeByName('.kconfig', 'datasec');
  if (!btf || !ds || ds.kind !== 'datasec' || ds.vars.length === 0) return undefined;
  const ext = ds.vars.map((v) => {
    const t = btf.typeById(v.typeId);
    if (t.kind !== 'var') throw new MapDefinitionError('.kconfig', `DATASEC entry [${v.typeId}] is a ${t.kind}, not a var`);
    return { name: t.name, size: btf.sizeof(t.typeId), align: btf.alignof(t.typeId) };
  });
  ext.sort((a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  const externs: NonNullable<MapSpec['externs']> = [];
  for (const e of ext) {
    const at = Math.ceil(off / Math.max(1, e.align)) * Math.max(1, e.align);
    externs.push({ name: e.name, offset: at, size: e.size });
    off = at + e.size;
  }
  const spec: MapSpec = {
    name: internalMapName(objectName, '.kconfig'),
    type: 'array',
    keySize: 4,
    valueSize: off,
    maxEntries: 1,
    flags: BPF_F_MMAPABLE | BPF_F_RDONLY_PROG,
    pinning: 'none',
    section: '.kconfig',
    freeze: true,
    btfValueTypeId: ds.id,
    externs,
  };
  return { spec, offsets: new Map(externs.map((e) => [e.name, e.offset])) };
}
