/**
 * A map's own element memory: the kernel's per-map bpf_mem_alloc cache
 * (kernel/bpf/memalloc.c), which hash maps without preallocation, LPM tries
 * and devmaps allocate their elements from.
 *
 * Two rules keep a stale element pointer (a program may keep a value pointer
 * after deleting the element: Linux accepts that) from reaching anything but
 * this map's own elements (docs/map-memory.md):
 *
 * - The elements come from slabs this map alone allocates from the address
 *   space; a freed element goes back to this cache, never to the space,
 *   until the map itself is released (after the grace period).
 * - A freed element is retired: it is handed out again only after the
 *   grace period (AddressSpace.afterGracePeriod: no run in flight that could
 *   still hold its address). Should a single run free more elements than
 *   the map holds (a loop of deletes and inserts), the oldest retired one is
 *   reused within this same map rather than growing the cache without
 *   bound: bpf_mem_alloc too reuses a map's freed elements at once, so the
 *   write still lands in an element of the same map, as in Linux. The cache
 *   therefore never holds more than twice max_entries elements.
 */
import { TsbpfError } from '../errors.js';
import type { AddressSpace } from '../memory/address-space.js';

/** Bytes of one slab, unless one element is larger. */
const SLAB_BYTES = 16384;

export class ElemCache {
  /** bytes per element (a multiple of 8) */
  readonly elemSize: number;
  private readonly slabs: number[] = [];
  /** elements ready for reuse */
  private ready: number[] = [];
  /** elements freed while a run may still point at them */
  private retired: number[] = [];
  private carve = 0;
  private carveEnd = 0;
  /** elements carved so far (live + ready + retired) */
  private carved = 0;
  private readonly cap: number;
  private waiting = false;

  constructor(
    private readonly space: AddressSpace,
    elemSize: number,
    maxEntries: number,
    private readonly name: string,
  ) {
    this.elemSize = Math.max(8, Math.ceil(elemSize / 8) * 8);
    this.cap = 2 * Math.max(1, maxEntries);
  }

  /** Bytes of address space this cache holds (its slabs). */
  get bytes(): number {
    let n = 0;
    for (const s of this.slabs) n += this.space.sizeOf(s) ?? 0;
    return n;
  }

  /** Whether `addr` is one of this cache's elements' memory. */
  owns(addr: number): boolean {
    for (const s of this.slabs) if (addr >= s && addr < s + (this.space.sizeOf(s) ?? 0)) return true;
    return false;
  }

  /** A zeroed element. Throws ENOMEM when the address space cannot hold another slab. */
  alloc(): number {
    let addr = this.ready.pop();
    if (addr === undefined) {
      if (this.carve + this.elemSize > this.carveEnd && this.carved < this.cap) this.newSlab();
      if (this.carve + this.elemSize <= this.carveEnd) {
        addr = this.carve;
        this.carve += this.elemSize;
        this.carved++;
      } else {
        addr = this.retired.shift();
        if (addr === undefined) throw new TsbpfError('ENOMEM', `map ${this.name}: element cache exhausted`);
      }
    }
    this.space.u8.fill(0, addr, addr + this.elemSize);
    return addr;
  }

  /** Give an element back: reusable once no run that could hold its address is in flight. */
  retire(addr: number): void {
    this.retired.push(addr);
    if (this.waiting) return;
    this.waiting = true;
    this.space.afterGracePeriod(() => {
      this.waiting = false;
      for (const a of this.retired) this.ready.push(a);
      this.retired = [];
    });
  }

  /** Free every slab (the map is released; its own release already waited for the grace period). */
  destroy(): void {
    for (const s of this.slabs) this.space.free(s);
    this.slabs.length = 0;
    this.ready = [];
    this.retired = [];
    this.carve = this.carveEnd = 0;
  }

  private newSlab(): void {
    // Slabs double with the map (as many elements as carved so far), within SLAB_BYTES and the cap.
    const room = this.cap - this.carved;
    const n = Math.max(1, Math.min(room, Math.max(4, this.carved), Math.floor(SLAB_BYTES / this.elemSize)));
    const slab = this.space.alloc(n * this.elemSize, 8);
    this.slabs.push(slab);
    this.carve = slab;
    this.carveEnd = slab + n * this.elemSize;
  }
}
