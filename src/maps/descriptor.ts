/**
 * A map's descriptor: what a map is, apart from what it holds (the kernel's
 * `struct bpf_map` fields that BPF_MAP_CREATE sets: type, key and value size,
 * max_entries, flags, BTF ids), and the block in the AddressSpace that
 * carries it. The block's address is the map "pointer" a program holds after
 * `lddw r1, map` (MapTable.byAddr turns it back into the map). Its leading
 * words are tsbpf's, read by the JIT (all u32, little-endian):
 *   +0 type  +4 key_size  +8 value_size  +12 max_entries  +16 map_flags
 *   +20 id   +24 values address (array kinds, else 0)  +28 elem size
 *   +32 hash table state block (hash-layout.ts; preallocated hash kinds, else 0)
 *   +36 ring buffer control block (ringbuf-layout.ts; ringbuf, else 0)
 *   +40 LPM trie state block (lpm-layout.ts; lpm_trie, else 0)
 * and the rest is laid out as Linux's struct bpf_map (BPF_MAP_FIELDS).
 */
import type { AddressSpace } from '../memory/address-space.js';
import { MapType, type MapSpec, type MapTypeName } from '../object/spec.js';

/** The attributes BPF_MAP_CREATE fixes for a map's life. */
export interface MapDescriptor {
  readonly type: MapTypeName;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** map_flags (BPF_F_*) */
  readonly flags: number;
  /** the declaration with its BTF ids (btfKeyTypeId, btfValueTypeId), map_extra, inner map */
  readonly spec: MapSpec;
}

/**
 * The fields of the kernel's `struct bpf_map` that a program may read through
 * its map pointer (Linux's check_ptr_to_map_access; verifier/btf-access.ts admits
 * exactly these), at their offsets in the layout of Linux 6.18 (vmlinux BTF;
 * src/verifier/kernel-btf.ts ships the same layout and
 * test/verifier-semantics.test.ts checks that the two agree). The descriptor
 * is as large as struct bpf_map; the tsbpf words above overlay its leading
 * `sha` bytes.
 */
export const BPF_MAP_FIELDS = {
  map_type: 64, key_size: 68, value_size: 72, max_entries: 76, map_extra: 80, map_flags: 88, id: 92,
  numa_node: 104, btf_key_type_id: 108, btf_value_type_id: 112, name: 136, frozen: 257,
} as const;

export const DESC_SIZE = 296;

/** Offset of the hash table state address in the descriptor (memory/hash-layout.ts, read by helpers/hash-probe.ts). */
export { DESC_TABLE_STATE } from '../memory/hash-layout.js';

/** Write the descriptor block of map `id` at `addr` (bpf_map_init_from_attr's fields). */
export function writeDescriptor(space: AddressSpace, addr: number, id: number, spec: MapSpec, maxEntries: number): void {
  const s = space;
  const type = MapType[spec.type];
  const flags = spec.flags >>> 0;
  s.writeU32(addr, type);
  s.writeU32(addr + 4, spec.keySize);
  s.writeU32(addr + 8, spec.valueSize);
  s.writeU32(addr + 12, maxEntries);
  s.writeU32(addr + 16, flags);
  s.writeU32(addr + 20, id);
  const F = BPF_MAP_FIELDS;
  s.writeU32(addr + F.map_type, type);
  s.writeU32(addr + F.key_size, spec.keySize);
  s.writeU32(addr + F.value_size, spec.valueSize);
  s.writeU32(addr + F.max_entries, maxEntries);
  s.writeU64(addr + F.map_extra, BigInt.asUintN(64, spec.mapExtra ?? 0n));
  s.writeU32(addr + F.map_flags, flags);
  s.writeU32(addr + F.id, id);
  s.writeU32(addr + F.numa_node, (spec.numaNode ?? -1) >>> 0); // NUMA_NO_NODE unless asked
  s.writeU32(addr + F.btf_key_type_id, spec.btfKeyTypeId ?? 0);
  s.writeU32(addr + F.btf_value_type_id, spec.btfValueTypeId ?? 0);
  s.write(addr + F.name, new TextEncoder().encode(spec.name).subarray(0, 15)); // BPF_OBJ_NAME_LEN - 1, NUL-terminated
}

/** Record the values area in the descriptor (array kinds, read by the JIT's inlined lookups). */
export function writeDescriptorValues(space: AddressSpace, addr: number, valuesAddr: number, elemSize: number): void {
  space.writeU32(addr + 24, valuesAddr);
  space.writeU32(addr + 28, elemSize);
}
