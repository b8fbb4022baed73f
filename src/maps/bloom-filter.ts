/**
 * BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c): a set with false
 * positives and no false negatives. Values are pushed (BPF_MAP_UPDATE_ELEM
 * with no key, bpf_map_push_elem) and tested with peek (BPF_MAP_LOOKUP_ELEM
 * with the value as input, bpf_map_peek_elem): 0 when maybe present, ENOENT
 * when surely absent. Nothing can be removed (pop/delete/get-next-key:
 * EOPNOTSUPP).
 *
 * The low 4 bits of map_extra give the number of hash functions (0 means the
 * kernel's default of 5). The bit array has the kernel's size: max_entries x
 * hashes x 7/5 bits (~1/ln 2), rounded up to a power of two, at least 64 and
 * at most 2^31, and lives in the AddressSpace.
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_ANY, BPF_F_ZERO_SEED, roundUpPow2 } from './flags.js';
import { hashBytes } from './hash-table.js';

export class BloomFilter extends BpfMap<Uint8Array> {
  readonly nrHashFuncs: number;
  readonly nrBits: number;
  readonly bitsAddr: number;
  private readonly bitMask: number;
  /** set once at creation, and again only by restore() */
  private seed: number;
  private region: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    const k = Number((spec.mapExtra ?? 0n) & 0xfn);
    this.nrHashFuncs = k === 0 ? 5 : k;
    let nrBits = Math.floor((this.maxEntries * this.nrHashFuncs) / 5) * 7;
    if (nrBits > 2 ** 31) nrBits = 2 ** 31;
    else nrBits = nrBits <= 64 ? 64 : roundUpPow2(nrBits);
    this.nrBits = nrBits;
    this.bitMask = nrBits - 1;
    this.seed = this.flags & BPF_F_ZERO_SEED ? 0 : (Math.random() * 0x100000000) >>> 0;
    try {
      this.bitsAddr = this.space.alloc(nrBits / 8, 8);
    } catch (e) {
      this.close();
      throw e;
    }
    this.region = this.space.addRegion({ base: this.bitsAddr, size: nrBits / 8, kind: 'map_value', name: `map ${this.name} bits`, writable: false });
  }

  private bitIndex(b: Uint8Array, off: number, i: number): number {
    return (hashBytes(b, off, this.valueSize, (this.seed + i) >>> 0) & this.bitMask) >>> 0;
  }

  private pushFrom(b: Uint8Array, off: number, flags: number): number {
    if (flags !== BPF_ANY) return errno('EINVAL');
    const idx: number[] = [];
    for (let i = 0; i < this.nrHashFuncs; i++) idx.push(this.bitIndex(b, off, i));
    const u8 = this.space.u8;
    for (const h of idx) u8[this.bitsAddr + (h >>> 3)]! |= 1 << (h & 7);
    return 0;
  }
  private peekFrom(b: Uint8Array, off: number): number {
    const u8 = this.space.u8;
    for (let i = 0; i < this.nrHashFuncs; i++) {
      const h = this.bitIndex(b, off, i);
      if (!(u8[this.bitsAddr + (h >>> 3)]! & (1 << (h & 7)))) return errno('ENOENT');
    }
    return 0;
  }

  override pushElem(valueAddr: number, flags: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    return this.pushFrom(this.space.u8, valueAddr, flags);
  }
  override peekElem(valueAddr: number, _cpu = 0): number {
    return this.peekFrom(this.space.u8, valueAddr);
  }
  override popElem(_valueAddr: number, _cpu = 0): number {
    return errno('EOPNOTSUPP');
  }
  override updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu = 0): number {
    return errno('EINVAL');
  }
  override deleteElem(_keyAddr: number, _cpu = 0): number {
    return errno('EOPNOTSUPP');
  }

  // ---- host side

  push(value: ValueInput, flags = 0): void {
    this.checkHostWrite();
    const rc = this.pushFrom(this.value(value), 0, flags);
    if (rc < 0) this.throwErrno(rc, `bloom filter push takes only BPF_ANY (got ${flags})`);
  }
  /** True when the value may have been pushed; false when it surely was not. */
  mayContain(value: ValueInput): boolean {
    this.checkHostRead();
    return this.peekFrom(this.value(value), 0) === 0;
  }
  /** BPF_MAP_LOOKUP_ELEM: the value (as given) when it may be present, else undefined (ENOENT). */
  override get(value: KeyInput): Uint8Array | undefined {
    const v = this.value(value);
    return this.mayContain(v) ? v.slice() : undefined;
  }
  override has(value: KeyInput): boolean {
    return this.mayContain(value);
  }
  /** BPF_MAP_UPDATE_ELEM: push (the key is ignored: key_size is 0). */
  override set(_key: KeyInput | undefined, value: ValueInput, flags = 0): void {
    this.push(value, flags);
  }
  override delete(): void {
    this.checkHostWrite();
    throw this.err('EOPNOTSUPP', 'bloom filters cannot delete');
  }
  override nextKey(): Uint8Array | undefined {
    this.checkHostRead();
    throw this.err('EOPNOTSUPP', 'bloom filters have no keys');
  }
  override *keys(): IterableIterator<Uint8Array> {
    this.nextKey();
  }
  /** The bit array (for pinning). */
  bits(): Uint8Array {
    return this.space.bytes(this.bitsAddr, this.nrBits / 8);
  }
  /** The hash seed (for pinning: restoring the bits needs the same seed). */
  get hashSeed(): number {
    return this.seed;
  }
  /** Restore a pinned state (same seed and bits). */
  restore(seed: number, bits: Uint8Array): void {
    if (bits.length !== this.nrBits / 8) throw this.err('EINVAL', 'bit array size differs');
    this.seed = seed >>> 0;
    this.space.write(this.bitsAddr, bits);
  }

  protected override freeStorage(): void {
    if (this.bitsAddr) this.space.free(this.bitsAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}
