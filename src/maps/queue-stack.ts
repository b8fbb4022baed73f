/**
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO),
 * kernel/bpf/queue_stack_maps.c: a ring of max_entries + 1 value slots in the
 * AddressSpace with head (next write) and tail (oldest) indices.
 *
 * - push (bpf_map_push_elem; BPF_MAP_UPDATE_ELEM with no key): BPF_ANY fails
 *   with E2BIG when full; BPF_EXIST overwrites the oldest element; BPF_NOEXIST
 *   or unknown flags are EINVAL;
 * - pop / peek (bpf_map_pop_elem / bpf_map_peek_elem; BPF_MAP_LOOKUP_AND_DELETE_ELEM
 *   / BPF_MAP_LOOKUP_ELEM): ENOENT when empty; a queue yields the oldest, a
 *   stack the newest;
 * - delete and get-next-key are EINVAL (there are no keys).
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_EXIST, BPF_NOEXIST, roundUp } from './flags.js';

abstract class QueueStackBase extends BpfMap<Uint8Array> {
  readonly elemSize: number;
  readonly elemsAddr: number;
  private readonly slotsN: number;
  private head = 0;
  private tail = 0;
  private region: Region | undefined;
  protected abstract readonly lifo: boolean;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.elemSize = roundUp(this.valueSize, 8);
    this.slotsN = this.maxEntries + 1;
    try {
      this.elemsAddr = this.space.alloc(this.slotsN * this.elemSize, 8);
    } catch (e) {
      this.close();
      throw e;
    }
    this.region = this.space.addRegion({ base: this.elemsAddr, size: this.slotsN * this.elemSize, kind: 'map_value', name: `map ${this.name} elements`, writable: true });
  }

  get size(): number {
    return (this.head - this.tail + this.slotsN) % this.slotsN;
  }

  private slot(i: number): number {
    return this.elemsAddr + i * this.elemSize;
  }

  /** queue_stack_map_push_elem */
  override pushElem(valueAddr: number, flags: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    return this.pushFrom(null, valueAddr, flags);
  }
  private pushFrom(src: Uint8Array | null, off: number, flags: number): number {
    if (flags & BPF_NOEXIST || flags > BPF_EXIST || flags < 0) return errno('EINVAL');
    if (this.size === this.maxEntries) {
      if (!(flags & BPF_EXIST)) return errno('E2BIG');
      if (++this.tail >= this.slotsN) this.tail = 0;
    }
    const dst = this.slot(this.head);
    if (src) this.space.write(dst, src.subarray(off, off + this.valueSize));
    else this.space.u8.copyWithin(dst, off, off + this.valueSize);
    if (++this.head >= this.slotsN) this.head = 0;
    return 0;
  }

  /** The slot pop/peek would read, or -1 when empty. */
  private topSlot(): number {
    if (this.size === 0) return -1;
    if (!this.lifo) return this.tail;
    return this.head === 0 ? this.slotsN - 1 : this.head - 1;
  }
  private take(del: boolean): number {
    const s = this.topSlot();
    if (s < 0) return -1;
    if (del) {
      if (this.lifo) this.head = s;
      else if (++this.tail >= this.slotsN) this.tail = 0;
    }
    return s;
  }

  override popElem(valueAddr: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    const s = this.take(true);
    if (s < 0) return errno('ENOENT');
    this.space.u8.copyWithin(valueAddr, this.slot(s), this.slot(s) + this.valueSize);
    return 0;
  }
  override peekElem(valueAddr: number, _cpu = 0): number {
    const s = this.take(false);
    if (s < 0) return errno('ENOENT');
    this.space.u8.copyWithin(valueAddr, this.slot(s), this.slot(s) + this.valueSize);
    return 0;
  }
  override updateElem(_keyAddr: number, _valueAddr: number, _flags: number, _cpu = 0): number {
    return errno('EINVAL');
  }
  override deleteElem(_keyAddr: number, _cpu = 0): number {
    return errno('EINVAL');
  }

  // ---- host side

  /** Push a value (BPF_ANY: E2BIG when full; BPF_EXIST: overwrite the oldest). */
  push(value: ValueInput, flags = 0): void {
    this.checkHostWrite();
    const v = this.value(value);
    const rc = this.pushFrom(v, 0, flags);
    if (rc < 0) this.throwErrno(rc, rc === errno('E2BIG') ? `${this.type} is full (max_entries ${this.maxEntries})` : `bad push flags ${flags}`);
  }
  /** Pop (BPF_MAP_LOOKUP_AND_DELETE_ELEM): undefined when empty. */
  pop(): Uint8Array | undefined {
    this.checkHostWrite();
    const s = this.take(true);
    return s < 0 ? undefined : this.space.bytes(this.slot(s), this.valueSize).slice();
  }
  peek(): Uint8Array | undefined {
    this.checkHostRead();
    const s = this.take(false);
    return s < 0 ? undefined : this.space.bytes(this.slot(s), this.valueSize).slice();
  }
  /** Every element, oldest first (for pinning and inspection). */
  contents(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.tail; i !== this.head; i = (i + 1) % this.slotsN) out.push(this.space.bytes(this.slot(i), this.valueSize).slice());
    return out;
  }

  /** BPF_MAP_LOOKUP_ELEM on a queue/stack is a peek (the key is ignored: key_size is 0). */
  override get(_key?: KeyInput): Uint8Array | undefined {
    return this.peek();
  }
  /** BPF_MAP_UPDATE_ELEM on a queue/stack is a push. */
  override set(_key: KeyInput | undefined, value: ValueInput, flags = 0): void {
    this.push(value, flags);
  }
  override lookupAndDelete(_key?: KeyInput): Uint8Array | undefined {
    return this.pop();
  }
  override delete(_key?: KeyInput): void {
    this.checkHostWrite();
    throw this.err('EINVAL', `${this.type} maps have no keys to delete`);
  }
  override nextKey(): Uint8Array | undefined {
    this.checkHostRead();
    throw this.err('EINVAL', `${this.type} maps have no keys`);
  }
  override *keys(): IterableIterator<Uint8Array> {
    this.nextKey();
  }
  protected override freeStorage(): void {
    if (this.elemsAddr) this.space.free(this.elemsAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}

export class QueueMap extends QueueStackBase {
  protected readonly lifo = false;
}

export class StackMap extends QueueStackBase {
  protected readonly lifo = true;
}
