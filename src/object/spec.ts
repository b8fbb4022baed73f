/**
 * Specs: what an object file describes, before anything is loaded
 * (cilium/ebpf's CollectionSpec/ProgramSpec/MapSpec, libbpf's bpf_object
 * before bpf_object__load). The object layer produces them; the runtime turns
 * them into live maps and programs.
 */
import type { Insn } from '../isa/insn.js';
import type { Btf } from './btf/index.js';
import type { MapTypeName, ProgTypeName } from '../uapi/bpf-types.js';
import type { StructOpsSlot } from './struct-ops.js';

// The kernel's map and program type enums are UAPI facts (src/uapi/bpf-types.ts); the specs
// speak of them, so they are re-exported here for the specs' readers.
export { MapType, ProgType, type MapTypeName, type ProgTypeName } from '../uapi/bpf-types.js';

/** libbpf's pinning modes for BTF-defined maps (LIBBPF_PIN_*). */
export type Pinning = 'none' | 'by_name';

export interface MapSpec {
  /** the map's name as libbpf names it (`counts`, or `<object>.rodata` for global data) */
  name: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map_flags */
  flags: number;
  pinning: Pinning;
  /** for array_of_maps / hash_of_maps: the inner map's template */
  innerMap?: MapSpec;
  /** initial contents: global data bytes, or `__array(values, ...)` slots (index -> program or map name) */
  contents?: MapContent[];
  /** BTF type ids of key and value (into the collection's BTF), when known */
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** global data: the ELF section it came from (`.data`, `.rodata`, `.bss`, `.data.foo`) */
  section?: string;
  /** .rodata and .rodata.* are frozen after their contents are written (BPF_MAP_FREEZE) */
  freeze?: boolean;
  /**
   * `.kconfig`: where each extern (CONFIG_*, LINUX_KERNEL_VERSION) lives in
   * the value, for the runtime to fill in before freezing (libbpf's layout).
   */
  externs?: Array<{ name: string; offset: number; size: number }>;
  /** map_extra (bloom filter hash count, arena address) */
  mapExtra?: bigint;
  numaNode?: number;
  /**
   * A legacy `maps` record written as iproute2's `struct bpf_elf_map` (include/bpf_elf.h):
   * the fields past `flags`, as the object holds them. How `pinning` and the inner-map
   * wiring are applied is src/object/legacy-maps.ts's business (docs/objects.md).
   */
  elfMap?: ElfMapFields;
}

/** iproute2's `struct bpf_elf_map` fields after the first five (bpf_elf.h). */
export interface ElfMapFields {
  /** the map's own id, named by other maps' inner_id */
  id: number;
  /** PIN_NONE 0, PIN_OBJECT_NS 1, PIN_GLOBAL_NS 2, or a value of /etc/iproute2/bpf_pinning */
  pinning: number;
  /** for a map-in-map: the id of the map that is its inner template; for another map: 0 */
  innerId: number;
  /** the slot this map takes in the map-in-maps whose inner_id is its id (0xffffffff: none) */
  innerIdx: number;
}

export type MapContent =
  | { key: Uint8Array; value: Uint8Array }
  | { index: number; program: string }
  | { index: number; map: string };

/** A relocation the object layer could not resolve into the instructions themselves. */
export interface InsnReference {
  /** slot index of the lddw or call */
  index: number;
  kind: 'map' | 'map_value' | 'call' | 'func' | 'kfunc' | 'btf_id';
  /** map name for 'map'/'map_value' (for 'map_value' the byte offset into the value is the imm of the lddw's second slot) */
  map?: string;
  /** kfunc / extern symbol name */
  symbol?: string;
  /**
   * 'btf_id': the extern is a function (a kfunc named as a value, as
   * bpf_ksym_exists() does), which the kernel types as read-only memory of
   * size 0, not a variable
   */
  ksymFunc?: true;
  /** 'kfunc' / 'btf_id': a weak extern, which libbpf resolves to 0 (a call: id 0) when the kernel lacks it */
  weak?: true;
}

export interface ProgramSpec {
  /** function name (the ELF symbol) */
  name: string;
  /** ELF section name, e.g. `xdp`, `kprobe/do_sys_open` */
  section: string;
  type: ProgTypeName;
  /** libbpf's expected attach type, when the section name implies one */
  attachType?: string;
  /** what to attach to, from the section name (`do_sys_open` in `kprobe/do_sys_open`) */
  attachTo?: string;
  license: string;
  kernelVersion?: number;
  /**
   * Instructions with their subprograms appended and bpf-to-bpf calls fixed
   * up. lddw map references use the kernel's ABI: src = BPF_PSEUDO_MAP_FD
   * (imm 0) for a map, src = BPF_PSEUDO_MAP_VALUE for global data with the
   * byte offset into the value in the second slot's imm; `references` names
   * the map of each, and the runtime fills in the imm when it loads.
   */
  insns: Insn[];
  /** map, global data and kfunc references by instruction index */
  references: InsnReference[];
  /** BTF func_info / line_info for this program (instruction offsets in slots), when the object has BTF.ext */
  funcInfo?: Array<{ insnOff: number; typeId: number }>;
  lineInfo?: Array<{ insnOff: number; fileName: string; line: string; lineNum: number; lineCol: number }>;
  /** CO-RE relocation records (insnOff in slots of `insns`), when the object has BTF.ext */
  coreRelos?: Array<{ insnOff: number; typeId: number; accessStr: string; kind: string; reloIdx?: number; func?: string }>;
  /** section-flag and BTF-derived traits */
  sleepable?: boolean;
  /** `xdp.frags`: the program accepts multi-buffer packets (BPF_F_XDP_HAS_FRAGS) */
  xdpFrags?: boolean;
  /** struct_ops programs: the kernel ops struct and member whose slot (in `.struct_ops` / `.struct_ops.link`) points to it (struct-ops.ts) */
  structOps?: StructOpsSlot;
  /**
   * Set when the section name maps to no program type (`type` is then
   * 'unspec'): the reason, for the error the runtime gives if this program
   * is loaded. The rest of the object stays usable, as with libbpf.
   */
  typeError?: string;
}

export interface CollectionSpec {
  /** object name as libbpf derives it (file base name without `.o`, truncated like libbpf) */
  objectName: string;
  programs: Map<string, ProgramSpec>;
  maps: Map<string, MapSpec>;
  /** the object's BTF, when it has a .BTF section (DATASEC sizes and offsets filled in, as libbpf does) */
  btf?: Btf;
  endian: 'le' | 'be';
}
