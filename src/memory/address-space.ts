/**
 * The address space of one runtime (docs/architecture.md, "Memory model").
 *
 * Everything a program can point at — stacks, context structs, packet buffers,
 * map values, ring buffers, global data — lives in one WebAssembly.Memory, and
 * every pointer a program holds is a 32-bit offset into it. The interpreter,
 * the JIT and host-side map access all see the same bytes.
 *
 * The first page is never handed out, so that address 0 (NULL) and small
 * offsets from it always fault.
 *
 * Allocation: power-of-two size classes from 16 bytes to 64 KiB with free
 * lists (contexts, descriptors, map element slabs), and page-granular
 * first-fit runs for larger blocks (array maps, ring buffers). Blocks are
 * never moved, so an address handed to a program or to the host stays valid
 * until freed.
 *
 * The grace period (the kernel's RCU, docs/map-memory.md): a program may
 * still hold a pointer into memory its map, element or program gave up
 * while it runs (a value pointer kept after bpf_map_delete_elem, an inner
 * map replaced by the host from a helper callback, a map or program closed
 * from a trace sink). The engines bracket every run with enterRun/exitRun;
 * memory given up with `retire` (or work queued with `afterGracePeriod`)
 * waits until no run of this space is in flight — nested runs and tail
 * calls included — and is reused only then. Memory only the runtime itself
 * points at (test-run buffers, helper scratch) is freed at once with `free`.
 * In a shared space (programs on worker threads) the runs of every thread
 * count, through one word of the shared memory; work deferred while another
 * thread ran is done by the thread that deferred it, at its next run's end
 * or allocation once no thread runs.
 */
import { TsbpfError } from '../errors.js';

const WASM_PAGE = 65536;
/** Addresses below this are never allocated: NULL plus small offsets always fault. */
export const NULL_GUARD = 4096;

export type RegionKind =
  | 'stack'
  | 'ctx'
  | 'packet'
  | 'map_value'
  | 'map_key'
  | 'map'
  | 'global'
  | 'ringbuf'
  | 'input'
  | 'heap'
  /**
   * Memory the host hands programs to read through the probe-read helpers,
   * as tracing programs read kernel objects: strings and buffers passed to a
   * probed function, a policy hook's path. Readable in every probe mode.
   */
  | 'kernel';

/** A named span of the address space, used to report faults and (in checked mode) to police accesses. */
export interface Region {
  base: number;
  size: number;
  kind: RegionKind;
  name: string;
  writable: boolean;
  /**
   * Who the bytes belong to (a map, a collection), for the probe-read
   * helpers' confined mode (docs/security.md); undefined: nobody in
   * particular. Set by whoever adds the region, or from
   * AddressSpace.regionOwner.
   */
  owner?: object;
}

export interface AddressSpaceOptions {
  /** Initial size in 64 KiB pages (default 256 = 16 MiB). */
  initialPages?: number;
  /** Maximum size in pages (default 65536 = 4 GiB). */
  maximumPages?: number;
  /** Back the space with a shared memory so worker threads can run programs over it. */
  shared?: boolean;
  /**
   * Adopt an existing memory instead of making one (a worker thread wrapping
   * the shared memory another thread created; src/runtime/shared.ts).
   */
  memory?: WebAssembly.Memory;
}

/** Shared spaces: the word counting the runs in flight on all threads (the first block allocated). */
const GRACE_WORD_ADDR = NULL_GUARD;

const MIN_CLASS = 4; // 16 bytes
const MAX_CLASS = 16; // 64 KiB

export class AddressSpace {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Bumped whenever the memory grows: cached views of the buffer must be rebuilt. */
  generation = 0;
  private _u8: Uint8Array;
  private _dv: DataView;
  /** Top of the bump area (everything above is untouched). */
  private brk = NULL_GUARD;
  private readonly freeLists: number[][] = [];
  /** Size of each live small block, keyed by address; large blocks by page run. */
  private readonly blockSize = new Map<number, number>();
  /** Free large runs, [addr, size] sorted by address. */
  private freeRuns: Array<[number, number]> = [];
  private readonly regions: Region[] = [];
  private lastRegion: Region | undefined;
  /** runs of programs over this space in flight on this thread (nested runs count each) */
  private runDepth = 0;
  /**
   * Shared spaces: the runs in flight on every thread, one word in the shared
   * memory at GRACE_WORD_ADDR (the first block the creating thread allocates;
   * worker threads adopting the memory find it there).
   */
  private readonly sharedRuns: Int32Array | undefined;
  /** work waiting for the end of the grace period (retired blocks, released maps) */
  private deferred: Array<() => void> = [];

  constructor(opts: AddressSpaceOptions = {}) {
    const initial = opts.initialPages ?? 256;
    const maximum = opts.maximumPages ?? 65536;
    this.shared = opts.memory ? typeof SharedArrayBuffer !== 'undefined' && opts.memory.buffer instanceof SharedArrayBuffer : (opts.shared ?? false);
    this.memory = opts.memory ?? newMemory(initial, maximum, this.shared);
    this._u8 = new Uint8Array(this.memory.buffer);
    this._dv = new DataView(this.memory.buffer);
    for (let c = 0; c <= MAX_CLASS; c++) this.freeLists.push([]);
    if (this.shared) {
      if (!opts.memory && this.alloc(64, 64) !== GRACE_WORD_ADDR) throw new TsbpfError('EINVAL', 'the grace word must be the first block of a shared space');
      this.sharedRuns = new Int32Array(this.memory.buffer, GRACE_WORD_ADDR, 1);
    }
  }

  /** The bytes of the whole space (rebuilt after growth; do not keep across allocations). */
  get u8(): Uint8Array {
    if (this._u8.buffer !== this.memory.buffer || this._u8.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this._u8;
  }

  get view(): DataView {
    if (this._dv.buffer !== this.memory.buffer || this._dv.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this._dv;
  }

  get size(): number {
    return this.memory.buffer.byteLength;
  }

  private refresh(): void {
    this._u8 = new Uint8Array(this.memory.buffer);
    this._dv = new DataView(this.memory.buffer);
    this.generation++;
  }

  /**
   * Allocate `size` bytes aligned to at least 8 (and to `align` if larger; a
   * power of two up to 64 KiB). The block is zeroed. Throws ENOMEM when the
   * space cannot grow any further.
   */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new TsbpfError('EINVAL', `invalid allocation size ${size}`);
    // Work deferred while other threads ran: done as soon as none runs (polled here, on this thread).
    if (this.deferred.length > 0 && this.quiescent()) this.endGracePeriod();
    const need = Math.max(size, align, 1 << MIN_CLASS);
    if (need <= 1 << MAX_CLASS) {
      const cls = Math.max(MIN_CLASS, 32 - Math.clz32(need - 1));
      const list = this.freeLists[cls]!;
      let addr = list.pop();
      if (addr === undefined) {
        const sz = 1 << cls;
        // Size classes are naturally aligned, which satisfies any align <= size.
        addr = this.bump(sz, sz);
      }
      this.blockSize.set(addr, 1 << cls);
      this.u8.fill(0, addr, addr + (1 << cls));
      return addr;
    }
    const sz = Math.ceil(need / WASM_PAGE) * WASM_PAGE;
    for (let i = 0; i < this.freeRuns.length; i++) {
      const run = this.freeRuns[i]!;
      if (run[1] >= sz) {
        const addr = run[0];
        if (run[1] === sz) this.freeRuns.splice(i, 1);
        else {
          run[0] += sz;
          run[1] -= sz;
        }
        this.blockSize.set(addr, sz);
        this.u8.fill(0, addr, addr + sz);
        return addr;
      }
    }
    const addr = this.bump(sz, WASM_PAGE);
    this.blockSize.set(addr, sz);
    return addr;
  }

  /** Return a block to the allocator. Freeing an address that is not a live block throws EINVAL. */
  free(addr: number): void {
    const sz = this.blockSize.get(addr);
    if (sz === undefined) throw new TsbpfError('EINVAL', `free of unallocated address 0x${addr.toString(16)}`);
    this.blockSize.delete(addr);
    if (sz <= 1 << MAX_CLASS) {
      this.freeLists[31 - Math.clz32(sz)]!.push(addr);
      return;
    }
    // Insert sorted and coalesce with neighbours.
    const runs = this.freeRuns;
    let i = 0;
    while (i < runs.length && runs[i]![0] < addr) i++;
    runs.splice(i, 0, [addr, sz]);
    if (i + 1 < runs.length && runs[i]![0] + runs[i]![1] === runs[i + 1]![0]) {
      runs[i]![1] += runs[i + 1]![1];
      runs.splice(i + 1, 1);
    }
    if (i > 0 && runs[i - 1]![0] + runs[i - 1]![1] === runs[i]![0]) {
      runs[i - 1]![1] += runs[i]![1];
      runs.splice(i, 1);
    }
  }

  /** Live blocks and their bytes (size classes and page runs as allocated): what a leak test watches. */
  allocation(): { blocks: number; bytes: number } {
    let bytes = 0;
    for (const n of this.blockSize.values()) bytes += n;
    return { blocks: this.blockSize.size, bytes };
  }

  /** A program run over this space begins (engines call this; runs nest). */
  enterRun(): void {
    this.runDepth++;
    if (this.sharedRuns) Atomics.add(this.sharedRuns, 0, 1);
  }

  /** A run ends: when it was the last one in flight, the grace period is over and deferred work runs. */
  exitRun(): void {
    if (this.sharedRuns) Atomics.sub(this.sharedRuns, 0, 1);
    if (--this.runDepth > 0) return;
    this.runDepth = 0;
    if (this.deferred.length > 0 && this.quiescent()) this.endGracePeriod();
  }

  /**
   * No run that could hold a pointer is in flight: none on this thread and,
   * in a shared space, none on any thread. (A run that starts later finds
   * only what is still published, so it cannot reach what was given up.)
   */
  private quiescent(): boolean {
    return this.runDepth === 0 && (this.sharedRuns === undefined || Atomics.load(this.sharedRuns, 0) === 0);
  }

  /** Runs in flight on this thread. */
  get runsInFlight(): number {
    return this.runDepth;
  }

  /** Blocks and callbacks waiting for the grace period to end. */
  get deferredCount(): number {
    return this.deferred.length;
  }

  /**
   * Run `fn` once no run that could hold a pointer into memory given up now
   * is in flight: at once when no run is, else when the last one ends
   * (call_rcu).
   */
  afterGracePeriod(fn: () => void): void {
    if (!this.quiescent()) {
      this.deferred.push(fn);
      return;
    }
    if (this.deferred.length > 0) this.endGracePeriod();
    fn();
  }

  /** Free a block a program may still point at: after the grace period (kfree_rcu). */
  retire(addr: number): void {
    this.afterGracePeriod(() => this.free(addr));
  }

  private endGracePeriod(): void {
    // Callbacks may queue more (a released map retiring its blocks): those run now too, as no run is in flight.
    let failure: unknown;
    while (this.deferred.length > 0 && this.quiescent()) {
      const batch = this.deferred;
      this.deferred = [];
      for (const fn of batch) {
        try {
          fn();
        } catch (e) {
          failure ??= e;
        }
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** The usable size of a live block. */
  sizeOf(addr: number): number | undefined {
    return this.blockSize.get(addr);
  }

  private bump(size: number, align: number): number {
    const addr = Math.ceil(this.brk / align) * align;
    const end = addr + size;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / WASM_PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        throw new TsbpfError('ENOMEM', `address space exhausted (need ${end} bytes)`);
      }
      this.refresh();
    }
    this.brk = end;
    return addr;
  }

  /**
   * While set, regions added without an owner get this one: the runtime sets
   * it around what a map does (its creation, host and program updates), so
   * the map's regions carry the map's tag without the map knowing.
   */
  regionOwner: object | undefined = undefined;

  /** Register a region for fault reports and checked-mode access control. */
  addRegion(r: Region): Region {
    if (r.owner === undefined && this.regionOwner !== undefined) r.owner = this.regionOwner;
    this.regions.push(r);
    return r;
  }

  removeRegion(r: Region): void {
    const i = this.regions.indexOf(r);
    if (i >= 0) this.regions.splice(i, 1);
    if (this.lastRegion === r) this.lastRegion = undefined;
  }

  /** The registered region that wholly contains [addr, addr+len), if any. */
  regionOf(addr: number, len = 1): Region | undefined {
    const last = this.lastRegion;
    if (last && addr >= last.base && addr + len <= last.base + last.size) return last;
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i]!;
      if (addr >= r.base && addr + len <= r.base + r.size) {
        this.lastRegion = r;
        return r;
      }
    }
    return undefined;
  }

  /** The registered region nearest to `addr` (for fault messages). */
  nearestRegion(addr: number): Region | undefined {
    let best: Region | undefined;
    let bestDist = Infinity;
    for (const r of this.regions) {
      const d = addr < r.base ? r.base - addr : addr >= r.base + r.size ? addr - (r.base + r.size) + 1 : 0;
      if (d < bestDist) {
        best = r;
        bestDist = d;
      }
    }
    return best;
  }

  // Little-endian accessors (eBPF on tsbpf is little-endian, like x86-64 and arm64 Linux).
  readU8(a: number): number {
    return this.u8[a]!;
  }
  readU16(a: number): number {
    return this.view.getUint16(a, true);
  }
  readU32(a: number): number {
    return this.view.getUint32(a, true);
  }
  readU64(a: number): bigint {
    return this.view.getBigUint64(a, true);
  }
  writeU8(a: number, v: number): void {
    this.u8[a] = v;
  }
  writeU16(a: number, v: number): void {
    this.view.setUint16(a, v, true);
  }
  writeU32(a: number, v: number): void {
    this.view.setUint32(a, v, true);
  }
  writeU64(a: number, v: bigint): void {
    this.view.setBigUint64(a, BigInt.asUintN(64, v), true);
  }
  /** A view (not a copy) of [addr, addr+len). Invalidated if the space grows. */
  bytes(addr: number, len: number): Uint8Array {
    return this.u8.subarray(addr, addr + len);
  }
  write(addr: number, data: Uint8Array): void {
    this.u8.set(data, addr);
  }
  /** Read a NUL-terminated string of at most `max` bytes. */
  readCString(addr: number, max = 4096): string {
    const u8 = this.u8;
    let end = addr;
    while (end < addr + max && end < u8.length && u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(addr, end));
  }
}

/**
 * A new WebAssembly.Memory. Engines reserve virtual address space per memory
 * (V8 on 64-bit hosts: about 10 GiB, for bounds checks without code), so
 * some ten thousand live ones exhaust the process's address space and the
 * constructor throws a RangeError: report it as ENOMEM with what to do.
 */
function newMemory(initial: number, maximum: number, shared: boolean): WebAssembly.Memory {
  if (!Number.isInteger(initial) || !Number.isInteger(maximum) || initial < 0 || initial > maximum || maximum > 65536)
    throw new TsbpfError('EINVAL', `invalid address space size: ${initial} initial and ${maximum} maximum 64 KiB pages (at most 65536)`);
  try {
    return new WebAssembly.Memory({ initial, maximum, shared } as WebAssembly.MemoryDescriptor);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new TsbpfError(
      'ENOMEM',
      `cannot reserve a new address space (${initial * 64} KiB, up to ${maximum * 64} KiB): too many live runtimes or memories; ` +
        'close() the runtimes you no longer use and drop references to them so they can be collected',
      { cause: e },
    );
  }
}
