/**
 * The address space as a worker thread sees it: the shared memory the main
 * thread made, with allocation confined to this thread's arena.
 *
 * Allocation in a shared space stays with the thread that made it (the
 * AddressSpace allocator is plain JS state, not shared); the main thread
 * carves one arena per CPU when it shares the runtime, and the worker bound
 * to that CPU allocates its program stacks, context buffers and scratch
 * blocks there. Freeing an address outside the arena is not this thread's
 * business (the map storage it attached to belongs to the main thread) and
 * is ignored.
 *
 * The main thread may grow the memory after a worker attached. Nothing this
 * thread reaches through JS views lies past the length at attach time (the
 * maps it attached to and its arena existed then; maps made later are not
 * in its description), so the views cached by maps (MemCache) need no
 * refresh — checking `memory.buffer` on every access would cost ~35 ns.
 * Programs see the whole memory in any case (WebAssembly bounds it).
 */
import { TsbpfError } from '../errors.js';
import { AddressSpace } from '../memory/address-space.js';

const MIN_BLOCK = 16;

export class ArenaSpace extends AddressSpace {
  private top: number;
  private readonly end: number;
  private readonly free_ = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();

  constructor(
    memory: WebAssembly.Memory,
    /** first byte this thread may allocate */
    readonly arenaBase: number,
    /** bytes in the arena */
    readonly arenaSize: number,
  ) {
    super({ memory });
    if (!this.shared) throw new TsbpfError('EINVAL', 'an arena space needs a shared memory');
    this.top = arenaBase;
    this.end = arenaBase + arenaSize;
  }

  /** Blocks are powers of two from 16 bytes, naturally aligned within the arena; zeroed. ENOMEM when the arena is full. */
  override alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new TsbpfError('EINVAL', `invalid allocation size ${size}`);
    const need = Math.max(size, align, MIN_BLOCK);
    const sz = 2 ** Math.ceil(Math.log2(need));
    let addr = this.free_.get(sz)?.pop();
    if (addr === undefined) {
      const al = Math.max(Math.min(sz, 4096), align);
      const a = Math.ceil(this.top / al) * al;
      if (a + sz > this.end) throw new TsbpfError('ENOMEM', `worker arena exhausted (${this.arenaSize} bytes; share({ arenaSize }) gives more)`);
      addr = a;
      this.top = a + sz;
    }
    this.sizes.set(addr, sz);
    this.u8.fill(0, addr, addr + sz);
    return addr;
  }

  override free(addr: number): void {
    if (addr < this.arenaBase || addr >= this.end) return;
    const sz = this.sizes.get(addr);
    if (sz === undefined) throw new TsbpfError('EINVAL', `free of unallocated address 0x${addr.toString(16)}`);
    this.sizes.delete(addr);
    let l = this.free_.get(sz);
    if (!l) this.free_.set(sz, (l = []));
    l.push(addr);
  }

  override sizeOf(addr: number): number | undefined {
    return this.sizes.get(addr);
  }
}
