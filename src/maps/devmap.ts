/**
 * BPF_MAP_TYPE_DEVMAP and BPF_MAP_TYPE_DEVMAP_HASH (kernel/bpf/devmap.c):
 * the tables bpf_redirect_map sends XDP frames through. The key is a u32
 * (an index for DEVMAP, any number — usually an ifindex — for DEVMAP_HASH);
 * the value is struct bpf_devmap_val: `u32 ifindex` (value_size 4) or
 * `u32 ifindex; int bpf_prog.fd` (value_size 8; reads back as the prog id).
 *
 * Kernel rules kept here:
 * - creation (dev_map_alloc_check): key_size 4, value_size 4 or 8,
 *   max_entries > 0, map_flags within NUMA_NODE|RDONLY|WRONLY; DEVMAP_HASH
 *   max_entries <= 2^31. The map is then made BPF_F_RDONLY_PROG
 *   (dev_map_init_map: a program's lookup points straight at the entry), so
 *   `flags` reads back with 0x80 as bpftool shows it, and the verifier
 *   refuses program writes to the value.
 * - an update names an existing device (dev_get_by_index, else EINVAL):
 *   the runtime's devices when the map knows them (MapContext.devices);
 *   a value with a program fd > 0 asks for a devmap program, which tsbpf
 *   does not run: EOPNOTSUPP, said plainly rather than ignored.
 * - DEVMAP: index >= max_entries is E2BIG on update and EINVAL on delete;
 *   BPF_NOEXIST is always EEXIST (slots always "exist"); ifindex 0 empties
 *   the slot; deleting an empty slot succeeds.
 * - DEVMAP_HASH: ifindex 0 is EINVAL; BPF_NOEXIST on a present key is EEXIST
 *   (BPF_EXIST on a missing key inserts, as the kernel does); a full map is
 *   E2BIG; deleting a missing key is ENOENT; get-next-key walks
 *   roundup_pow_of_two(max_entries) buckets (key & (n - 1)) in order, newest
 *   first within a bucket (hlist_add_head), restarting at the first entry
 *   when the given key is absent.
 *
 * Each entry's struct bpf_devmap_val (8 bytes) lives in the address space,
 * in a read-only region, so bpf_map_lookup_elem hands programs a real
 * pointer; `target(key)` is bpf_redirect_map's lookup (__dev_map_lookup_elem).
 */
import { ElemCache } from './elem-cache.js';
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { arrayNextKey, BpfMap, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_ANY, BPF_F_RDONLY_PROG, BPF_NOEXIST } from './flags.js';

/** sizeof(struct bpf_devmap_val) */
const DEVMAP_VAL_SIZE = 8;

interface DevEntry {
  key: number;
  ifindex: number;
  /** bpf_prog.id (always 0: devmap programs are not supported) */
  progId: number;
  /** address of the entry's struct bpf_devmap_val in the space */
  addr: number;
  region: Region;
}

abstract class DevMapBase extends BpfMap<Uint8Array> {
  protected readonly entries_ = new Map<number, DevEntry>();
  private readonly devices: MapContext['devices'];

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    // dev_map_init_map adds BPF_F_RDONLY_PROG to the map's flags; `spec` (what was asked for, what
    // a pin records and re-creates from) stays as given, since map creation refuses that flag.
    (this as { flags: number }).flags = spec.flags | BPF_F_RDONLY_PROG;
    this.space.writeU32(this.addr + 16, this.flags >>> 0);
    this.devices = ctx.devices;
  }

  protected u32Key(key: KeyInput): number {
    const k = this.key(key);
    return (k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24)) >>> 0;
  }

  /** struct bpf_devmap_val from the host's value bytes (value_size 4 or 8). */
  protected parseValue(value: ValueInput): { ifindex: number; progFd: number } {
    const v = this.value(value);
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return { ifindex: dv.getUint32(0, true), progFd: this.valueSize >= 8 ? dv.getInt32(4, true) : 0 };
  }

  /** __dev_map_alloc_node's checks: the device exists; a program fd (> 0) is refused here. */
  protected checkTarget(ifindex: number, progFd: number): void {
    if (this.devices && !this.devices.has(ifindex)) throw this.err('EINVAL', `no network device with ifindex ${ifindex}`);
    if (progFd > 0) throw this.err('EOPNOTSUPP', 'devmap programs (struct bpf_devmap_val.bpf_prog) are not supported by tsbpf: give fd 0 or -1');
  }

  /** the entries' memory: this map's own, reused after the grace period (elem-cache.ts) */
  private cache: ElemCache | undefined;

  protected makeEntry(key: number, ifindex: number): DevEntry {
    const addr = (this.cache ??= new ElemCache(this.space, DEVMAP_VAL_SIZE, this.maxEntries, this.name)).alloc();
    this.space.writeU32(addr, ifindex);
    this.space.writeU32(addr + 4, 0);
    const region = this.space.addRegion({ base: addr, size: DEVMAP_VAL_SIZE, kind: 'map', name: `${this.type} ${this.name}[${key}]`, writable: false });
    return { key, ifindex, progId: 0, addr, region };
  }

  protected dropEntry(e: DevEntry): void {
    // A run may still hold the value pointer a lookup gave it (the kernel frees the entry after RCU).
    this.cache!.retire(e.addr);
    this.space.afterGracePeriod(() => this.space.removeRegion(e.region));
  }

  protected lookupKey(key: number): DevEntry | undefined {
    return this.entries_.get(key);
  }

  /** bpf_redirect_map's lookup: the target ifindex for `key`, or undefined. */
  target(key: number): number | undefined {
    return this.lookupKey(key >>> 0)?.ifindex;
  }

  /** Every target (bpf_redirect_map with BPF_F_BROADCAST), in the map's walk order. */
  *targets(): IterableIterator<{ key: number; ifindex: number }> {
    for (const k of this.keys()) {
      const key = new DataView(k.buffer, k.byteOffset, 4).getUint32(0, true);
      const e = this.lookupKey(key);
      if (e) yield { key, ifindex: e.ifindex };
    }
  }

  override lookupElem(keyAddr: number): number {
    return this.lookupKey(this.space.readU32(keyAddr))?.addr ?? 0;
  }

  override get(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const e = this.lookupKey(this.u32Key(key));
    if (!e) return undefined;
    const out = new Uint8Array(this.valueSize);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, e.ifindex, true);
    if (this.valueSize >= 8) dv.setUint32(4, e.progId, true);
    return out;
  }

  protected checkFlags(flags: number): void {
    this.checkUpdateFlags(flags);
  }

  protected override freeStorage(): void {
    for (const e of this.entries_.values()) this.space.removeRegion(e.region);
    this.entries_.clear();
    this.cache?.destroy();
  }
}

/** BPF_MAP_TYPE_DEVMAP: an array of devices indexed by a u32. */
export class DevMap extends DevMapBase {
  override set(key: KeyInput, value: ValueInput, flags = BPF_ANY): void {
    this.checkHostWrite();
    const i = this.u32Key(key);
    this.checkFlags(flags);
    if (i >= this.maxEntries) throw this.err('E2BIG', `index ${i} >= max_entries ${this.maxEntries}`);
    if (flags === BPF_NOEXIST) throw this.err('EEXIST', 'devmap slots always exist (BPF_NOEXIST)');
    const { ifindex, progFd } = this.parseValue(value);
    if (ifindex === 0) {
      if (progFd > 0) throw this.err('EINVAL', 'a program fd needs an ifindex');
      this.clear(i);
      return;
    }
    this.checkTarget(ifindex, progFd);
    this.clear(i);
    this.entries_.set(i, this.makeEntry(i, ifindex));
  }

  private clear(i: number): void {
    const old = this.entries_.get(i);
    if (old) {
      this.entries_.delete(i);
      this.dropEntry(old);
    }
  }

  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const i = this.u32Key(key);
    if (i >= this.maxEntries) throw this.err('EINVAL', `index ${i} >= max_entries ${this.maxEntries}`);
    this.clear(i);
  }

  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    return arrayNextKey(key === undefined ? 0xffffffff : this.u32Key(key), this.maxEntries);
  }
}

/** BPF_MAP_TYPE_DEVMAP_HASH: devices keyed by any u32 (typically the ifindex), densely packed. */
export class DevMapHash extends DevMapBase {
  private readonly nBuckets: number;
  /** bucket index -> keys, head (newest) first */
  private readonly buckets = new Map<number, number[]>();

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    let n = 1;
    while (n < this.maxEntries) n *= 2;
    this.nBuckets = n;
  }

  private bucketOf(key: number): number {
    return (key & (this.nBuckets - 1)) >>> 0;
  }

  override set(key: KeyInput, value: ValueInput, flags = BPF_ANY): void {
    this.checkHostWrite();
    const k = this.u32Key(key);
    this.checkFlags(flags);
    const { ifindex, progFd } = this.parseValue(value);
    if (ifindex === 0) throw this.err('EINVAL', 'devmap_hash values need an ifindex');
    const old = this.entries_.get(k);
    if (old && flags === BPF_NOEXIST) throw this.err('EEXIST', `key ${k} exists (BPF_NOEXIST)`);
    this.checkTarget(ifindex, progFd);
    if (!old && this.entries_.size >= this.maxEntries) throw this.err('E2BIG', `map is full (${this.maxEntries} entries)`);
    // BPF_EXIST on a missing key is not refused by dev_map_hash_update_elem: it inserts.
    if (old) this.unlink(old);
    const e = this.makeEntry(k, ifindex);
    this.entries_.set(k, e);
    const b = this.bucketOf(k);
    const list = this.buckets.get(b);
    if (list) list.unshift(k);
    else this.buckets.set(b, [k]);
  }

  private unlink(e: DevEntry): void {
    this.entries_.delete(e.key);
    const b = this.bucketOf(e.key);
    const list = this.buckets.get(b)!;
    list.splice(list.indexOf(e.key), 1);
    if (list.length === 0) this.buckets.delete(b);
    this.dropEntry(e);
  }

  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const e = this.entries_.get(this.u32Key(key));
    if (!e) throw this.err('ENOENT', 'no such key');
    this.unlink(e);
  }

  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    let from = 0;
    if (key !== undefined) {
      const k = this.u32Key(key);
      if (this.entries_.has(k)) {
        const b = this.bucketOf(k);
        const list = this.buckets.get(b)!;
        const at = list.indexOf(k);
        if (at + 1 < list.length) return u32Bytes(list[at + 1]!);
        from = b + 1;
      }
    }
    let best: number | undefined;
    for (const b of this.buckets.keys()) if (b >= from && (best === undefined || b < best)) best = b;
    return best === undefined ? undefined : u32Bytes(this.buckets.get(best)![0]!);
  }

  protected override freeStorage(): void {
    super.freeStorage();
    this.buckets.clear();
  }
}

function u32Bytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

export type { DevEntry };
