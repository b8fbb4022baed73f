/**
 * Keys and values as JavaScript objects, decoded and encoded through BTF
 * (libbpf's btf-aware dumps, cilium/ebpf's typed Map.Lookup). A TypedMap is a
 * view over a BpfMap: every operation converts with the BTF codec
 * (object/btf/codec.ts) and forwards to the map, so errors are the map's
 * MapError or the codec's BtfValueError (a value that does not fit its type).
 * Per-CPU maps decode to one value per CPU.
 *
 * The type parameters say what the BTF types decode to (the codec's BtfValue:
 * integers of up to 4 bytes as numbers, wider ones as bigints, structs as
 * objects by member name, arrays as arrays); they are the caller's promise,
 * not checked at run time:
 *
 *   interface Stats { packets: bigint; bytes: bigint }
 *   const stats = new TypedMap<number, Stats>(coll.map('stats', 'hash'), spec.btf!);
 *   stats.get(6)?.packets;
 */
import type { Btf } from '../object/btf/btf.js';
import { decodeValue, encodeValue, type BtfValue } from '../object/btf/codec.js';
import { BpfMap, MapError } from './map.js';

export interface TypedMapOptions {
  /** BTF type ids of key and value; default the spec's btfKeyTypeId / btfValueTypeId */
  keyTypeId?: number;
  valueTypeId?: number;
  /** encode structs with missing members zero-filled instead of failing */
  partial?: boolean;
}

/** What a TypedMap needs of a map (the user-space BpfMap and the kernel backend's KernelMap both are one). */
export type TypedMapTarget = Pick<BpfMap<unknown>, 'name' | 'spec' | 'keySize' | 'valueSize' | 'perCpu' | 'numCpus' | 'get' | 'set' | 'delete' | 'has' | 'keys' | 'entries'>;

export class TypedMap<K extends BtfValue = BtfValue, V extends BtfValue = BtfValue> {
  readonly keyTypeId: number | undefined;
  readonly valueTypeId: number;

  constructor(
    readonly map: TypedMapTarget,
    readonly btf: Btf,
    private readonly opts: TypedMapOptions = {},
  ) {
    this.keyTypeId = opts.keyTypeId ?? map.spec.btfKeyTypeId;
    const v = opts.valueTypeId ?? map.spec.btfValueTypeId;
    if (v === undefined) throw new MapError('EINVAL', 'no BTF type for the value (btfValueTypeId)', map.name);
    this.valueTypeId = v;
    if (map.keySize > 0 && this.keyTypeId === undefined) throw new MapError('EINVAL', 'no BTF type for the key (btfKeyTypeId)', map.name);
    if (this.keyTypeId !== undefined && btf.sizeof(this.keyTypeId) !== map.keySize)
      throw new MapError('EINVAL', `BTF key type is ${btf.sizeof(this.keyTypeId)} bytes, key_size is ${map.keySize}`, map.name);
    if (btf.sizeof(this.valueTypeId) !== map.valueSize)
      throw new MapError('EINVAL', `BTF value type is ${btf.sizeof(this.valueTypeId)} bytes, value_size is ${map.valueSize}`, map.name);
  }

  private encKey(k: BtfValue): Uint8Array {
    if (this.keyTypeId === undefined) return new Uint8Array(0);
    return encodeValue(this.btf, this.keyTypeId, k, { partial: this.opts.partial === true });
  }
  private encValue(v: BtfValue): Uint8Array {
    return encodeValue(this.btf, this.valueTypeId, v, { partial: this.opts.partial === true });
  }
  private decKey(b: Uint8Array): BtfValue {
    return this.keyTypeId === undefined ? b : decodeValue(this.btf, this.keyTypeId, b);
  }
  private decValue(v: unknown): BtfValue {
    if (Array.isArray(v)) return v.map((x) => decodeValue(this.btf, this.valueTypeId, x as Uint8Array));
    return decodeValue(this.btf, this.valueTypeId, v as Uint8Array);
  }

  /** The value (per-CPU maps: one per CPU), or undefined when the key is absent. */
  get(key: K): V | undefined {
    const v = this.map.get(this.encKey(key));
    return v === undefined ? undefined : (this.decValue(v) as V);
  }
  /** Per-CPU maps take an array with one value per CPU, or one value for all CPUs. */
  set(key: K, value: V | V[], flags = 0): void {
    const enc = this.map.perCpu && Array.isArray(value) && value.length === this.map.numCpus && !this.isArrayType() ? value.map((x) => this.encValue(x)) : this.encValue(value);
    (this.map as BpfMap<Uint8Array | Uint8Array[]>).set(this.encKey(key), enc as Uint8Array, flags);
  }
  delete(key: K): void {
    this.map.delete(this.encKey(key));
  }
  has(key: K): boolean {
    return this.map.has(this.encKey(key));
  }
  *keys(): IterableIterator<K> {
    for (const k of this.map.keys()) yield this.decKey(k) as K;
  }
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.map.entries()) yield [this.decKey(k) as K, this.decValue(v) as V];
  }
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Is the value type itself an array (then a JS array is one value, not one per CPU)? */
  private isArrayType(): boolean {
    // Skip typedefs and qualifiers (they carry typeId); arrays and everything else stop the walk.
    let t: { kind: string; typeId?: number } = this.btf.typeById(this.valueTypeId);
    for (let i = 0; i < 32 && t.kind !== 'ptr' && t.typeId !== undefined; i++) t = this.btf.typeById(t.typeId);
    return t.kind === 'array';
  }
}
