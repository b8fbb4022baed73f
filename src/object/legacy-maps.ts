/**
 * The legacy `maps` section: one record per symbol, from before BTF-defined maps.
 *
 * Two loaders defined it. libbpf before 1.0 read a `struct bpf_map_def` (type, key_size,
 * value_size, max_entries, map_flags: 20 bytes) and libbpf 1.0 dropped the section ("legacy map
 * definitions in 'maps' section are not supported by libbpf v1.0+", EOPNOTSUPP); iproute2's own
 * loader (lib/bpf_legacy.c, used by `tc` and `ip` when built without libbpf) reads a
 * `struct bpf_elf_map` (include/bpf_elf.h): the same five fields, then id, pinning, inner_id and
 * inner_idx (36 bytes). Cilium, katran and the kernel's samples ship both layouts. tsbpf reads
 * either, as cilium/ebpf does:
 *
 * - a record holds at least type, key and value size and max_entries (16 bytes, iproute2's
 *   `struct bpf_elf_map_min`); a shorter one is zero-filled, as both loaders do;
 * - the four bpf_elf_map fields are kept in `MapSpec.elfMap`; bytes past them must be zero
 *   (iproute2 refuses a longer record, libbpf 0.x ignored non-zero ones with a warning);
 * - pinning: libbpf never pinned a legacy map, so by default `pinning` is ignored; with
 *   `{ loader: 'iproute2' }` PIN_GLOBAL_NS maps are pinned by name (tc's
 *   /sys/fs/bpf/tc/globals/NAME when the load's pinPath is /sys/fs/bpf/tc/globals);
 * - map-in-maps are wired as iproute2 does (bpf_map_attach, bpf_maps_attach_all): the inner
 *   template of a map-in-map is the map whose id is its inner_id, and a map with an id, no
 *   inner_id and an inner_idx other than 0xffffffff fills slot inner_idx of every map-in-map
 *   whose inner_id is that id. libbpf had no way to give a legacy map-in-map its inner map.
 */
import { ElfError, type ElfFile, type ElfSection } from './elf.js';
import { MapDefinitionError, mapTypeName, objectSymbols, type MapLocation } from './maps.js';
import type { ElfMapFields, MapSpec } from './spec.js';

/** iproute2's struct bpf_elf_map_min: type, size_key, size_value, max_elem */
const ELF_MAP_MIN_SIZE = 16;
/** libbpf 0.x's struct bpf_map_def: the five fields every legacy record starts with */
const LEGACY_MAP_DEF_SIZE = 20;
/** iproute2's struct bpf_elf_map: bpf_map_def + id, pinning, inner_id, inner_idx */
const ELF_MAP_SIZE = 36;
/** bpf_elf.h */
export const PIN_NONE = 0;
export const PIN_OBJECT_NS = 1;
export const PIN_GLOBAL_NS = 2;
/** inner_idx of a map that goes into no outer map (iproute2 compares with -1) */
const NO_INNER_IDX = 0xffffffff;

/** Whose rules read the legacy parts of an object (ReadObjectOptions.loader): libbpf's or tc's and ip's own loader's. */
export type LegacyLoader = 'libbpf' | 'iproute2';

/** The legacy `maps` section: one record per symbol, sized by the symbol. */
export function legacyMaps(elf: ElfFile, sec: ElfSection, loader: LegacyLoader = 'libbpf'): MapLocation[] {
  const le = elf.endian === 'le';
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const syms = objectSymbols(elf, sec.index).sort((a, b) => a.value - b.value);
  const out: MapLocation[] = [];
  for (let i = 0; i < syms.length; i++) {
    const sym = syms[i]!;
    // Old objects carry no symbol sizes: then a record runs to the next symbol.
    const size = sym.size !== 0 ? sym.size : (syms[i + 1]?.value ?? sec.size) - sym.value;
    if (sym.value > sec.size || size > sec.size - sym.value)
      throw new ElfError(sec.offset + Math.min(sym.value, sec.size), `legacy map '${sym.name}' [${sym.value}, +${size}) is outside section 'maps' (${sec.size} bytes)`);
    if (size < ELF_MAP_MIN_SIZE)
      throw new MapDefinitionError(sym.name, `legacy map definition is ${size} bytes: type, key and value size and max_entries need ${ELF_MAP_MIN_SIZE}`);
    const at = sym.value;
    // A field the record is too short to hold reads as 0 (both loaders zero-fill).
    const u32 = (off: number): number => (off + 4 <= size ? dv.getUint32(at + off, le) : 0);
    for (let b = at + ELF_MAP_SIZE; b < at + size; b++)
      if (sec.data[b] !== 0)
        throw new MapDefinitionError(sym.name, `legacy map definition has non-zero data past struct bpf_elf_map's ${ELF_MAP_SIZE} bytes (at ${b - at}): not supported`, 'ENOTSUPP');
    const rawType = u32(0);
    const type = mapTypeName(rawType);
    if (!type) throw new MapDefinitionError(sym.name, `unknown map type ${rawType}`);
    const spec: MapSpec = { name: sym.name, type, keySize: u32(4), valueSize: u32(8), maxEntries: u32(12), flags: u32(16), pinning: 'none' };
    if (size > LEGACY_MAP_DEF_SIZE) {
      const elfMap: ElfMapFields = { id: u32(20), pinning: u32(24), innerId: u32(28), innerIdx: size >= ELF_MAP_SIZE ? u32(32) : 0 };
      spec.elfMap = elfMap;
      if (loader === 'iproute2') spec.pinning = iproute2Pinning(sym.name, elfMap.pinning);
    }
    out.push({ spec, section: sec.index, offset: at, size });
  }
  wireMapInMaps(out.map((l) => l.spec));
  return out;
}

/**
 * tc's pinning (bpf_legacy.c bpf_no_pinning, bpf_make_pathname): PIN_GLOBAL_NS is
 * `<tc dir>/globals/NAME`, a by-name pin under the load's pinPath. PIN_OBJECT_NS pins
 * under a directory named by the object's SHA-1 and other values under
 * /etc/iproute2/bpf_pinning's paths: neither is modelled, so they are refused rather
 * than pinned somewhere tc would not look.
 */
function iproute2Pinning(map: string, pinning: number): MapSpec['pinning'] {
  if (pinning === PIN_NONE) return 'none';
  if (pinning === PIN_GLOBAL_NS) return 'by_name';
  if (pinning === PIN_OBJECT_NS)
    throw new MapDefinitionError(map, 'iproute2 pinning PIN_OBJECT_NS (per-object directory named by the object\'s SHA-1) is not supported; PIN_GLOBAL_NS is', 'ENOTSUPP');
  throw new MapDefinitionError(map, `iproute2 pinning ${pinning} names a path of /etc/iproute2/bpf_pinning, which tsbpf does not read (PIN_NONE 0 and PIN_GLOBAL_NS 2 are supported)`, 'ENOTSUPP');
}

const isMapInMap = (m: MapSpec): boolean => m.type === 'array_of_maps' || m.type === 'hash_of_maps';

/** iproute2's map-in-map wiring between legacy records (see the module comment). */
function wireMapInMaps(specs: MapSpec[]): void {
  for (const outer of specs) {
    if (!isMapInMap(outer) || !outer.elfMap?.innerId) continue;
    const innerId = outer.elfMap.innerId;
    // bpf_find_map_id: the first map with that id
    const inner = specs.find((m) => m.elfMap?.id === innerId);
    if (!inner) throw new MapDefinitionError(outer.name, `inner map with id ${innerId} not found (inner_id names the id of another map in 'maps')`);
    outer.innerMap = { ...inner, pinning: 'none' };
    delete outer.innerMap.elfMap;
  }
  for (const m of specs) {
    const e = m.elfMap;
    if (!e || !e.id || e.innerId || e.innerIdx === NO_INNER_IDX) continue;
    for (const outer of specs) {
      if (!isMapInMap(outer) || outer.elfMap?.innerId !== e.id) continue;
      if (outer.type === 'array_of_maps' && e.innerIdx >= outer.maxEntries)
        throw new MapDefinitionError(outer.name, `map '${m.name}' goes into slot ${e.innerIdx} (its inner_idx) but max_entries is ${outer.maxEntries}`, 'E2BIG');
      (outer.contents ??= []).push({ index: e.innerIdx, map: m.name });
    }
  }
}
