/**
 * Specs: what an object file describes, before anything is loaded
 * (cilium/ebpf's CollectionSpec/ProgramSpec/MapSpec, libbpf's bpf_object
 * before bpf_object__load). The object layer produces them; the runtime turns
 * them into live maps and programs.
 */
import type { Insn } from '../isa/insn.js';
import type { Btf } from './btf/index.js';

/** Map types by the kernel's `enum bpf_map_type` values. */
export const MapType = {
  unspec: 0,
  hash: 1,
  array: 2,
  prog_array: 3,
  perf_event_array: 4,
  percpu_hash: 5,
  percpu_array: 6,
  stack_trace: 7,
  cgroup_array: 8,
  lru_hash: 9,
  lru_percpu_hash: 10,
  lpm_trie: 11,
  array_of_maps: 12,
  hash_of_maps: 13,
  devmap: 14,
  sockmap: 15,
  cpumap: 16,
  xskmap: 17,
  sockhash: 18,
  cgroup_storage: 19,
  reuseport_sockarray: 20,
  percpu_cgroup_storage: 21,
  queue: 22,
  stack: 23,
  sk_storage: 24,
  devmap_hash: 25,
  struct_ops: 26,
  ringbuf: 27,
  inode_storage: 28,
  task_storage: 29,
  bloom_filter: 30,
  user_ringbuf: 31,
  cgrp_storage: 32,
  arena: 33,
} as const;
export type MapTypeName = keyof typeof MapType;

/** Program types by the kernel's `enum bpf_prog_type` values. */
export const ProgType = {
  unspec: 0,
  socket_filter: 1,
  kprobe: 2,
  sched_cls: 3,
  sched_act: 4,
  tracepoint: 5,
  xdp: 6,
  perf_event: 7,
  cgroup_skb: 8,
  cgroup_sock: 9,
  lwt_in: 10,
  lwt_out: 11,
  lwt_xmit: 12,
  sock_ops: 13,
  sk_skb: 14,
  cgroup_device: 15,
  sk_msg: 16,
  raw_tracepoint: 17,
  cgroup_sock_addr: 18,
  lwt_seg6local: 19,
  lirc_mode2: 20,
  sk_reuseport: 21,
  flow_dissector: 22,
  cgroup_sysctl: 23,
  raw_tracepoint_writable: 24,
  cgroup_sockopt: 25,
  tracing: 26,
  struct_ops: 27,
  ext: 28,
  lsm: 29,
  sk_lookup: 30,
  syscall: 31,
  netfilter: 32,
} as const;
export type ProgTypeName = keyof typeof ProgType;

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
