/**
 * BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c).
 *
 * Values are preallocated and contiguous: element `i` of CPU `c` is at
 * `valuesAddr + (i * slots + c) * elemSize` with `elemSize =
 * roundUp(valueSize, 8)` (the kernel's elem_size) and `slots` = 1 for plain
 * arrays, numCpus for per-CPU ones (per-CPU arrays in a shared space are
 * laid out CPU by CPU instead: see `cpuStride`). The JIT may inline lookups from
 * `valuesAddr`, `elemSize`, `maxEntries` (and `numCpus` for per-CPU).
 *
 * Kernel rules kept here: every index always exists (lookup never fails in
 * range; BPF_NOEXIST is EEXIST; delete is EINVAL); an index past the end is
 * E2BIG on update and ENOENT on lookup; get-next-key returns index+1, 0 for a
 * missing or out-of-range key, ENOENT after the last index.
 */
import { copyMapValue, hasSpinLock, zeroSpecialFields } from './special-fields.js';
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { arrayNextKey, BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_RDONLY_PROG, BPF_NOEXIST, roundUp } from './flags.js';

abstract class ArrayBase<V> extends BpfMap<V> {
  readonly valuesAddr: number;
  readonly elemSize: number;
  /** value slots per index: 1, or numCpus for per-CPU arrays */
  readonly slots: number;
  /**
   * Per-CPU arrays in a shared space (programs on several threads): each
   * CPU's values are one block, `cpuStride` bytes (a multiple of 64) from the
   * next, so threads counting in their own slots do not contend for a cache
   * line (the kernel's per-CPU areas are apart too). 0: the layout above.
   */
  readonly cpuStride: number;
  private region: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext, perCpu: boolean) {
    super(spec, ctx);
    this.elemSize = roundUp(this.valueSize, 8);
    this.slots = perCpu ? this.numCpus : 1;
    this.cpuStride = perCpu && this.space.shared ? Math.ceil((this.maxEntries * this.elemSize) / 64) * 64 : 0;
    const bytes = this.cpuStride ? this.cpuStride * this.slots : this.maxEntries * this.slots * this.elemSize;
    this.attached = ctx.attach !== undefined;
    try {
      // A thread attaching to another's array (shared address space) finds the values in the descriptor.
      this.valuesAddr = this.attached ? this.space.readU32(this.addr + 24) : this.space.alloc(bytes, this.cpuStride ? 64 : 8);
    } catch (e) {
      this.close();
      throw e;
    }
    this.region = this.space.addRegion({ base: this.valuesAddr, size: bytes, kind: 'map_value', name: `map ${this.name} values`, writable: !(this.flags & BPF_F_RDONLY_PROG) });
    if (!this.attached) this.setDescriptorValues(this.valuesAddr, this.elemSize);
  }
  private readonly attached: boolean;

  /** Address of element `index` for `cpu`. */
  slotAddr(index: number, cpu = 0): number {
    // A CPU number past the map's (a runtime bug, never a program's doing) wraps instead of reaching the next element.
    if (this.cpuStride !== 0) return this.valuesAddr + ((cpu >>> 0) % this.slots) * this.cpuStride + index * this.elemSize;
    return this.valuesAddr + (index * this.slots + (this.slots === 1 ? 0 : (cpu >>> 0) % this.slots)) * this.elemSize;
  }

  override lookupElem(keyAddr: number, cpu = 0): number {
    const u8 = this.mem.u8;
    const index = (u8[keyAddr]! | (u8[keyAddr + 1]! << 8) | (u8[keyAddr + 2]! << 16) | (u8[keyAddr + 3]! << 24)) >>> 0;
    if (index >= this.maxEntries) return 0;
    return this.slotAddr(index, cpu);
  }

  override updateElem(keyAddr: number, valueAddr: number, flags: number, cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    const rc = this.checkFlagsIndex(flags, this.space.readU32(keyAddr));
    if (rc !== 0) return rc;
    const index = this.space.readU32(keyAddr);
    const u8 = this.mem.u8;
    const dst = this.slotAddr(index, cpu);
    if (this.specialFields.length) copyMapValue(u8, dst, valueAddr, this.valueSize, this.specialFields);
    else u8.copyWithin(dst, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  override deleteElem(_keyAddr: number, _cpu = 0): number {
    return errno('EINVAL');
  }

  /** array_map_update_elem's checks, in its order. */
  private checkFlagsIndex(flags: number, index: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST || flags < 0) return errno('EINVAL');
    if (index >= this.maxEntries) return errno('E2BIG');
    if (flags & BPF_NOEXIST) return errno('EEXIST');
    if (flags & BPF_F_LOCK && !hasSpinLock(this.specialFields)) return errno('EINVAL');
    return 0;
  }

  protected index(key: KeyInput): number {
    if (typeof key === 'number' && key >= 0 && key <= 0xffffffff && Number.isInteger(key)) return key;
    const k = this.key(key);
    return (k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24)) >>> 0;
  }

  protected hostWriteCheck(key: KeyInput, flags: number): number {
    this.checkHostWrite();
    if (flags & BPF_F_LOCK && !hasSpinLock(this.specialFields)) throw this.err('EINVAL', 'BPF_F_LOCK needs a bpf_spin_lock in the value');
    const index = this.index(key);
    const rc = this.checkFlagsIndex(flags, index);
    if (rc !== 0) this.throwErrno(rc, rc === errno('E2BIG') ? `index ${index} >= max_entries ${this.maxEntries}` : rc === errno('EEXIST') ? 'array elements always exist (BPF_NOEXIST)' : `bad update flags ${flags}`);
    return index;
  }

  override getView(key: KeyInput, cpu = 0): Uint8Array | undefined {
    this.checkHostRead();
    const index = this.index(key);
    if (index >= this.maxEntries) return undefined;
    const a = this.slotAddr(index, cpu);
    return this.mem.u8.subarray(a, a + this.valueSize);
  }

  override delete(key: KeyInput): void {
    this.checkHostWrite();
    this.key(key);
    throw this.err('EINVAL', 'array elements cannot be deleted');
  }

  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    return arrayNextKey(key === undefined ? 0xffffffff : this.index(key), this.maxEntries);
  }

  override *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, i, true);
      yield out;
    }
  }

  protected override freeStorage(): void {
    // The thread that made a shared array frees it, not one that attached.
    if (this.valuesAddr && !this.attached) this.space.free(this.valuesAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}

export class ArrayMap extends ArrayBase<Uint8Array> {
  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx, false);
  }
  override get(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const index = this.index(key);
    if (index >= this.maxEntries) return undefined;
    const a = this.valuesAddr + index * this.elemSize;
    const out = this.mem.u8.slice(a, a + this.valueSize);
    if (this.specialFields.length) zeroSpecialFields(out, 0, this.specialFields);
    return out;
  }
  override set(key: KeyInput, value: ValueInput, flags = 0): void {
    const v = this.value(value);
    const index = this.hostWriteCheck(key, flags);
    if (this.specialFields.length) copyMapValue(this.mem.u8, this.slotAddr(index), v, this.valueSize, this.specialFields);
    else this.mem.u8.set(v, this.slotAddr(index));
  }
}

export class PerCpuArrayMap extends ArrayBase<Uint8Array[]> {
  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx, true);
  }
  override get perCpu(): boolean {
    return true;
  }
  override get(key: KeyInput): Uint8Array[] | undefined {
    this.checkHostRead();
    const index = this.index(key);
    if (index >= this.maxEntries) return undefined;
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.numCpus; c++) out.push(this.space.bytes(this.slotAddr(index, c), this.valueSize).slice());
    return out;
  }
  override set(key: KeyInput, value: Uint8Array[] | ValueInput, flags = 0): void {
    const vs = this.perCpuValues(value);
    const index = this.hostWriteCheck(key, flags);
    for (let c = 0; c < this.numCpus; c++) this.space.write(this.slotAddr(index, c), vs[c]!);
  }
}
