/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS
 * (kernel/bpf/map_in_map.c, arraymap.c, hashtab.c).
 *
 * Values are maps. From the host a value is an inner map id (the kernel takes
 * a map fd on update and returns the map id on lookup). A program's
 * bpf_map_lookup_elem yields the inner map's descriptor address — the same
 * "map pointer" `lddw r1, map` gives — or 0; programs cannot update or delete.
 *
 * Every inner map must match the outer map's template (spec.innerMap) as
 * bpf_map_meta_equal requires: same type, key_size, value_size and map_flags;
 * for array inner maps also max_entries, unless the template has
 * BPF_F_INNER_MAP. Map-in-map inner maps are EINVAL (one level only) and
 * types without map_meta_equal (prog_array) are ENOTSUPP. A slot holds a
 * reference: an inner map closed by the host stays alive while a slot refers
 * to it.
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { BpfMap, errno, MapError, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { FdArray } from './fd-array.js';
import { HashBase } from './hash.js';
import { BPF_F_INNER_MAP } from './flags.js';

/** Validate an inner map against the outer map's template. */
export function checkInnerMap(outer: string, template: MapSpec, inner: BpfMap<unknown>): void {
  if (inner.type === 'array_of_maps' || inner.type === 'hash_of_maps') throw new MapError('EINVAL', 'map-in-map cannot nest more than one level', outer);
  if (inner.type === 'prog_array') throw new MapError('ENOTSUPP', 'prog_array cannot be an inner map', outer);
  const bad = (what: string, a: unknown, b: unknown): never => {
    throw new MapError('EINVAL', `inner map ${inner.name} ${what} ${String(b)} differs from the template's ${String(a)}`, outer);
  };
  if (inner.type !== template.type) bad('type', template.type, inner.type);
  if (inner.keySize !== template.keySize) bad('key_size', template.keySize, inner.keySize);
  if (inner.valueSize !== template.valueSize) bad('value_size', template.valueSize, inner.valueSize);
  if (inner.flags !== template.flags) bad('map_flags', template.flags, inner.flags);
  if (template.type === 'array' && !(template.flags & BPF_F_INNER_MAP) && inner.maxEntries !== template.maxEntries)
    bad('max_entries', template.maxEntries, inner.maxEntries);
}

function resolveInner(outer: BpfMap<unknown>, template: MapSpec, id: number): BpfMap<unknown> {
  const m = outer.table.byId(id);
  if (!m || m.closed) throw new MapError('EBADF', `no map with id ${id}`, outer.name);
  checkInnerMap(outer.name, template, m);
  return m;
}

export class ArrayOfMaps extends FdArray<BpfMap<unknown>> {
  readonly template: MapSpec;
  /** inner descriptor addresses as u64 words at valuesAddr + 8 * index (0 when empty), for inlined lookups */
  readonly valuesAddr: number;
  readonly elemSize = 8;
  private region: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.template = spec.innerMap!;
    try {
      this.valuesAddr = this.space.alloc(this.maxEntries * 8, 8);
    } catch (e) {
      this.close();
      throw e;
    }
    this.region = this.space.addRegion({ base: this.valuesAddr, size: this.maxEntries * 8, kind: 'map', name: `array_of_maps ${this.name}`, writable: false });
    this.setDescriptorValues(this.valuesAddr, 8);
  }

  protected handleOf(m: BpfMap<unknown>): number {
    return m.id;
  }
  protected resolve(id: number): BpfMap<unknown> {
    return resolveInner(this as BpfMap<unknown>, this.template, id);
  }
  protected override onStore(i: number, m: BpfMap<unknown> | undefined, old: BpfMap<unknown> | undefined): void {
    m?.retain();
    if (this.valuesAddr) this.space.writeU32(this.valuesAddr + 8 * i, m ? m.addr : 0);
    old?.unretain();
  }

  override lookupElem(keyAddr: number, _cpu = 0): number {
    const i = this.space.readU32(keyAddr);
    if (i >= this.maxEntries) return 0;
    return this.slots.get(i)?.addr ?? 0;
  }

  /** The inner map in slot `index`. */
  inner(index: number): BpfMap<unknown> | undefined {
    return this.slots.get(index >>> 0);
  }

  protected override freeStorage(): void {
    super.freeStorage();
    if (this.valuesAddr) this.space.free(this.valuesAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}

export class HashOfMaps extends HashBase<Uint8Array> {
  readonly template: MapSpec;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx, false, false);
    this.template = spec.innerMap!;
  }

  private innerAt(i: number): BpfMap<unknown> | undefined {
    return this.table.byAddr(this.space.readU32(this.valueAddrOf(i, 0)));
  }

  override lookupElem(keyAddr: number, _cpu = 0): number {
    const i = this.table_.find(null, keyAddr);
    return i < 0 ? 0 : this.space.readU32(this.valueAddrOf(i, 0));
  }
  override updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu = 0): number {
    return errno('EINVAL');
  }
  override deleteElem(_keyAddr: number, _cpu = 0): number {
    return errno('EINVAL');
  }

  protected readValue(i: number): Uint8Array {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.innerAt(i)?.id ?? 0, true);
    return out;
  }
  override getView(): Uint8Array | undefined {
    throw this.err('EINVAL', 'hash_of_maps values are maps: use get() or inner()');
  }

  override set(key: KeyInput, value: ValueInput, flags = 0): void {
    this.checkHostWrite();
    const v = this.value(value);
    const m = resolveInner(this as BpfMap<unknown>, this.template, new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true));
    const i = this.insertHost(key, flags);
    const old = this.table_.created ? undefined : this.innerAt(i);
    m.retain();
    this.space.writeU32(this.valueAddrOf(i, 0), m.addr);
    old?.unretain();
  }
  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const i = this.table_.find(this.key(key), 0);
    if (i < 0) throw this.err('ENOENT', 'no such key');
    this.onRemove(i);
    this.table_.removeIndex(i);
  }
  override lookupAndDelete(): never {
    throw this.err('ENOTSUPP', 'lookup_and_delete is not supported for hash_of_maps');
  }
  protected override onRemove(i: number): void {
    this.innerAt(i)?.unretain();
  }

  /** The inner map stored under `key`. */
  inner(key: KeyInput): BpfMap<unknown> | undefined {
    const i = this.findHost(key);
    return i < 0 ? undefined : this.innerAt(i);
  }

  protected override freeStorage(): void {
    const t = this.table_;
    if (t) for (let i = t.firstFrom(0); i >= 0; i = t.after(i)) this.innerAt(i)?.unretain();
    super.freeStorage();
  }
}
