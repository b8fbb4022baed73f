/**
 * The bucketed hash table under every hash-kind map (kernel/bpf/hashtab.c's
 * struct bpf_htab): `roundup_pow_of_two(max_entries)` buckets of singly
 * linked elements, new elements at the head of their bucket, iteration in
 * bucket order then chain order — which is the order get-next-key and the
 * batch commands walk, with the kernel's rules.
 *
 * Elements live in the AddressSpace: key at +0, value area at
 * +roundUp(keySize, 8) (one 8-aligned value per CPU for per-CPU maps).
 * Without BPF_F_NO_PREALLOC the elements are one preallocated block, as the
 * kernel preallocates; with it each element is allocated on insert from the
 * map's own element cache and retired on delete (elem-cache.ts: reused only
 * by this map, and only after the grace period). Chain links, hashes, the
 * free stack and the LRU list are i32 arrays indexed by element number, so
 * lookups allocate nothing.
 *
 * Preallocated tables keep those arrays and the counters (count, free-list
 * top, LRU ends) in one state block of the address space (hash-layout.ts),
 * so that the JIT's WebAssembly probe (helpers/hash-probe.ts) walks the same table
 * as this class without a call into JS. NO_PREALLOC tables of an unshared
 * space keep them in the JS heap (their arrays grow with the map) and the
 * probe hands their operations to the JS ops.
 *
 * Shared address spaces (programs on several threads, src/runtime/shared.ts):
 * the state block is in the shared memory, next to a lock word and a
 * sequence count (lock.ts), so every thread's HashTable over the same block
 * sees one table; elements are always preallocated (a worker cannot
 * allocate). Callers (hash.ts) take `lock` around changes and use `findShared`
 * for lock-free lookups. One lock per map rather than the kernel's one per
 * bucket: the free list, the count and the LRU list are map-wide here (the
 * kernel splits them per CPU), so a change takes a map-wide lock anyway.
 *
 * LRU (lru_hash, lru_percpu_hash), after kernel/bpf/bpf_lru_list.c: a
 * program lookup only sets the element's reference bit
 * (bpf_lru_node_set_ref: no list is touched, so an inlined lookup is one
 * store); an update moves the element to the front of the recency list with
 * the bit clear (the kernel gives an updated key a fresh node, unreferenced);
 * inserting into a full map evicts from the back, where a referenced element
 * gets a second chance (its bit cleared, moved to the front, as the kernel's
 * __bpf_lru_list_shrink_inactive moves referenced nodes to the active list)
 * and the first unreferenced one goes (after a whole round, the back one:
 * the kernel's forced shrink). What is not modelled: the kernel frees nodes
 * in batches (up to LOCAL_FREE_TARGET = 128 per shrink, every unreferenced
 * inactive node of a small map at once) from per-CPU free lists, so it may
 * evict before the map is full and more than one element at a time, and
 * with BPF_F_NO_COMMON_LRU each CPU evicts only from its own share. tsbpf
 * evicts one element, only when the map is full: a program that works on the
 * kernel's LRU works here, and the elements it looked up since they last
 * moved survive the next eviction in both.
 */
import type { AddressSpace, Region } from '../memory/address-space.js';
import { errno, MemCache } from './map.js';
import { MapLock, SeqCount } from './lock.js';
import { BPF_EXIST, BPF_NOEXIST, roundUp, roundUpPow2 } from './flags.js';
import { ElemCache } from './elem-cache.js';
import { H, HDR_WORDS, hashBytes, stateWords } from '../memory/hash-layout.js';

export interface HashTableOptions {
  /** may programs write values (false for BPF_F_RDONLY_PROG): the regions' writable bit for checked mode */
  progWritable?: boolean;
  keySize: number;
  /** bytes of value storage per element (all CPUs) */
  valueArea: number;
  maxEntries: number;
  prealloc: boolean;
  lru: boolean;
  seed: number;
  name: string;
  /** attach to the table whose shared block is at this address (made by another thread) instead of making one */
  attachAt?: number;
  /** bytes of one value (what a program's update copies); recorded in the state for the WebAssembly probe */
  valueSize?: number;
}

export { hashBytes } from '../memory/hash-layout.js';

const MAX_BUCKETS = 1 << 20;

export class HashTable {
  readonly keySize: number;
  readonly keyRound: number;
  readonly slotSize: number;
  readonly maxEntries: number;
  readonly nBuckets: number;
  private readonly mask: number;
  private buckets!: Int32Array;
  next!: Int32Array;
  private hashes!: Uint32Array;
  /** element number -> address of its slot (0 while free, NO_PREALLOC) */
  elemAddr: Int32Array;
  private freeStack!: Int32Array;
  /** elements the tables can hold now (max_entries when preallocated) */
  private cap: number;
  /** the header words (hash-layout.ts H): in the state block, or a private Int32Array (NO_PREALLOC) */
  private hdr!: Int32Array;
  /** shared tables: the map's lock (taken by callers around changes) and the lookups' sequence count */
  readonly lock: MapLock | undefined;
  readonly seq: SeqCount | undefined;
  /** address of the state block (hash-layout.ts), or 0 for an unshared NO_PREALLOC table (JS arrays) */
  readonly stateAddr: number = 0;
  /** set by insert(): whether the last successful insert created the element */
  created = false;
  /** set by insert(): the key evicted to make room (LRU), or -1 */
  evicted = -1;
  private readonly pool: number;
  /** NO_PREALLOC: the map's own element memory */
  private readonly cache: ElemCache | undefined;
  private readonly region: Region | undefined;
  /** NO_PREALLOC: one region per live element's value area, so checked-mode accesses find it */
  private readonly elemRegions = new Map<number, Region>();
  private lruPrev: Int32Array | undefined;
  private lruNext: Int32Array | undefined;
  /** LRU: the reference bits (hash-layout.ts LRU_REF) */
  private lruRef: Int32Array | undefined;
  private readonly seed: number;
  private readonly mem: MemCache;
  /** the space's generation the views over the state block were made in (an unshared memory's growth detaches them) */
  private gen = -1;

  constructor(
    private readonly space: AddressSpace,
    readonly opts: HashTableOptions,
  ) {
    this.mem = new MemCache(space);
    this.keySize = opts.keySize;
    this.keyRound = roundUp(opts.keySize, 8);
    this.slotSize = this.keyRound + opts.valueArea;
    this.maxEntries = opts.maxEntries;
    // The kernel sizes the bucket array to roundup_pow_of_two(max_entries); past 2^20 buckets
    // tsbpf keeps 2^20 and lets chains grow (the walk order is unspecified either way).
    this.nBuckets = Math.min(roundUpPow2(opts.maxEntries), MAX_BUCKETS);
    this.mask = this.nBuckets - 1;
    if (space.shared || opts.prealloc) {
      // The state lives in the address space (hash-layout.ts), where the WebAssembly probe and
      // other threads read it. A worker cannot allocate: shared tables always preallocate.
      const n = this.maxEntries;
      const attach = opts.attachAt !== undefined;
      const st = attach ? opts.attachAt! : space.alloc(stateWords(this.nBuckets, n, opts.lru) * 4, 8);
      this.stateAddr = st;
      this.bind();
      const hdr = this.hdr;
      if (space.shared) {
        this.lock = new MapLock(hdr, H.LOCK, `map ${opts.name} lock`);
        this.seq = new SeqCount(hdr, H.SEQ);
      } else {
        this.lock = undefined;
        this.seq = undefined;
      }
      this.cap = n;
      if (attach) {
        this.seed = hdr[H.SEED]! >>> 0;
        this.pool = hdr[H.POOL]! >>> 0;
      } else {
        this.seed = opts.seed;
        // Cache-line aligned, so per-CPU slots 64 bytes apart (hash.ts) never share a line.
        try {
          this.pool = space.alloc(n * this.slotSize, 64);
        } catch (e) {
          space.free(st);
          throw e;
        }
        this.bind(); // the allocation may have grown the memory
        this.initState(st);
      }
      this.region = space.addRegion({ base: this.pool, size: n * this.slotSize, kind: 'map_value', name: `map ${opts.name} elements`, writable: opts.progWritable !== false });
      this.elemAddr = new Int32Array(n);
      for (let i = 0; i < n; i++) this.elemAddr[i] = this.pool + i * this.slotSize;
      return;
    }
    this.lock = undefined;
    this.seq = undefined;
    this.cache = new ElemCache(space, this.slotSize, opts.maxEntries, opts.name);
    this.hdr = new Int32Array(HDR_WORDS);
    this.hdr[H.LRU_HEAD] = -1;
    this.hdr[H.LRU_TAIL] = -1;
    this.seed = opts.seed;
    this.pool = 0;
    this.region = undefined;
    this.buckets = new Int32Array(this.nBuckets).fill(-1);
    // Without preallocation the per-element tables start small and double as elements come.
    this.cap = Math.min(this.maxEntries, 256);
    this.next = new Int32Array(this.cap).fill(-1);
    this.hashes = new Uint32Array(this.cap);
    this.elemAddr = new Int32Array(this.cap);
    this.freeStack = new Int32Array(this.cap);
    for (let i = 0; i < this.cap; i++) this.freeStack[i] = this.cap - 1 - i;
    this.hdr[H.FREE_TOP] = this.cap;
    if (opts.lru) {
      this.lruPrev = new Int32Array(this.maxEntries).fill(-1);
      this.lruNext = new Int32Array(this.maxEntries).fill(-1);
      this.lruRef = new Int32Array(this.maxEntries);
    }
  }

  /** A new state block: the header's constants, empty buckets, every element free (element 0 first). */
  private initState(st: number): void {
    const n = this.maxEntries;
    const hdr = this.hdr;
    hdr[H.SEED] = this.seed | 0;
    hdr[H.POOL] = this.pool;
    hdr[H.MASK] = this.mask;
    hdr[H.KEY_SIZE] = this.keySize;
    hdr[H.KEY_ROUND] = this.keyRound;
    hdr[H.SLOT_SIZE] = this.slotSize;
    hdr[H.VALUE_SIZE] = this.opts.valueSize ?? 0;
    hdr[H.MAX_ENTRIES] = n;
    hdr[H.PROBE] = 0;
    let off = st + HDR_WORDS * 4;
    hdr[H.BUCKETS] = off;
    off += this.nBuckets * 4;
    hdr[H.NEXT] = off;
    off += n * 4;
    hdr[H.HASHES] = off;
    off += n * 4;
    hdr[H.FREE] = off;
    this.buckets.fill(-1);
    this.next.fill(-1);
    for (let i = 0; i < n; i++) this.freeStack[i] = n - 1 - i;
    hdr[H.FREE_TOP] = n;
    hdr[H.LRU_HEAD] = -1;
    hdr[H.LRU_TAIL] = -1;
    this.lruPrev?.fill(-1);
    this.lruNext?.fill(-1);
    this.lruRef?.fill(0);
  }

  /** (Re)make the typed views over the state block (hash-layout.ts's order). */
  private bind(): void {
    const n = this.maxEntries;
    const buf = this.space.memory.buffer;
    let off = this.stateAddr;
    const take = (len: number): Int32Array => {
      const a = new Int32Array(buf, off, len);
      off += len * 4;
      return a;
    };
    this.hdr = take(HDR_WORDS);
    this.buckets = take(this.nBuckets);
    this.next = take(n);
    this.hashes = new Uint32Array(buf, off, n);
    off += n * 4;
    this.freeStack = take(n);
    if (this.opts.lru) {
      this.lruPrev = take(n);
      this.lruNext = take(n);
      this.lruRef = take(n);
    }
    this.gen = this.space.generation;
  }

  /**
   * Views of an unshared memory are detached when it grows: remake them. Every
   * public method that reads the arrays starts here (shared memories do not detach).
   */
  sync(): void {
    if (this.gen !== this.space.generation && this.stateAddr !== 0 && !this.space.shared) this.bind();
  }

  /** Which program-side operations the WebAssembly probe may do itself (hash-layout.ts PROBE_*). */
  setProbe(bits: number): void {
    if (this.stateAddr === 0) return;
    this.sync();
    this.hdr[H.PROBE] = bits;
  }

  /** Clear H.CPU (hash-layout.ts): a program's call reached the JS ops, the probe must not take a stale CPU later. */
  disarmCpu(): void {
    if (this.stateAddr === 0) return;
    this.sync();
    this.hdr[H.CPU] = 0;
  }

  /** First element of bucket b (-1 when empty). */
  bucketHead(b: number): number {
    this.sync();
    return this.buckets[b]!;
  }

  /** NO_PREALLOC: double the per-element tables (up to max_entries). */
  private grow(): void {
    const cap = Math.min(this.maxEntries, this.cap * 2);
    const next = new Int32Array(cap).fill(-1);
    next.set(this.next);
    const hashes = new Uint32Array(cap);
    hashes.set(this.hashes);
    const elemAddr = new Int32Array(cap);
    elemAddr.set(this.elemAddr);
    const free = new Int32Array(cap);
    free.set(this.freeStack.subarray(0, this.hdr[H.FREE_TOP]));
    let top = this.hdr[H.FREE_TOP]!;
    for (let i = cap - 1; i >= this.cap; i--) free[top++] = i;
    this.next = next;
    this.hashes = hashes;
    this.elemAddr = elemAddr;
    this.freeStack = free;
    this.hdr[H.FREE_TOP] = top;
    this.cap = cap;
  }

  /** Number of elements. */
  get count(): number {
    this.sync();
    return this.hdr[H.COUNT]!;
  }

  /**
   * `find` without the lock, for shared tables: the walk is retried (then
   * done under the lock) when a writer changed the table meanwhile, and is
   * cut short if a concurrent change sends it round a chain more than
   * max_entries times.
   */
  findShared(kb: Uint8Array | null, ko: number): number {
    const seq = this.seq!;
    const h = this.hash(kb ?? this.mem.u8, ko);
    for (let tries = 0; tries < 4; tries++) {
      const s = seq.begin();
      if (s & 1) continue;
      const i = this.findBounded(kb, ko, h);
      if (!seq.retry(s)) return i;
    }
    const lock = this.lock!;
    lock.acquire();
    try {
      return this.find(kb, ko, h);
    } finally {
      lock.release();
    }
  }

  private findBounded(kb: Uint8Array | null, ko: number, h: number): number {
    const u8 = this.mem.u8;
    const k = kb ?? u8;
    const n = this.keySize;
    let steps = this.maxEntries + 1;
    for (let i = this.buckets[h & this.mask]!; i >= 0 && i < this.maxEntries && steps-- > 0; i = this.next[i]!) {
      if (this.hashes[i] !== h) continue;
      const a = this.elemAddr[i]!;
      let j = 0;
      while (j < n && u8[a + j] === k[ko + j]) j++;
      if (j === n) return i;
    }
    return -1;
  }

  /** Shared tables: take the lock and open a change (lock-free readers retry). */
  beginWrite(): void {
    this.lock!.acquire();
    this.seq!.writeBegin();
  }
  endWrite(): void {
    this.seq!.writeEnd();
    this.lock!.release();
  }


  keyAddr(i: number): number {
    return this.elemAddr[i]!;
  }
  valueAddr(i: number): number {
    return this.elemAddr[i]! + this.keyRound;
  }

  hash(kb: Uint8Array, ko: number): number {
    return hashBytes(kb, ko, this.keySize, this.seed);
  }

  /** Element number of the key at kb[ko..], or -1. `kb` null means the address space. */
  find(kb: Uint8Array | null, ko: number, h = this.hash(kb ?? this.mem.u8, ko)): number {
    this.sync();
    const u8 = this.mem.u8;
    const k = kb ?? u8;
    const n = this.keySize;
    for (let i = this.buckets[h & this.mask]!; i >= 0; i = this.next[i]!) {
      if (this.hashes[i] !== h) continue;
      const a = this.elemAddr[i]!;
      let j = 0;
      while (j < n && u8[a + j] === k[ko + j]) j++;
      if (j === n) return i;
    }
    return -1;
  }

  /**
   * Find or create the element for a key, with BPF_NOEXIST/BPF_EXIST and the
   * full-map rule (E2BIG, or eviction for LRU). Returns the element number or
   * a negative errno; `created` tells whether it is new (value area zeroed).
   */
  insert(kb: Uint8Array | null, ko: number, flags: number): number {
    this.sync();
    this.created = false;
    this.evicted = -1;
    const h = this.hash(kb ?? this.mem.u8, ko);
    const found = this.find(kb, ko, h);
    if (found >= 0) {
      if (flags === BPF_NOEXIST) return errno('EEXIST');
      this.touch(found);
      return found;
    }
    if (flags === BPF_EXIST) return errno('ENOENT');
    const hdr = this.hdr;
    if (hdr[H.FREE_TOP] === 0 && this.cap < this.maxEntries) this.grow();
    if (hdr[H.FREE_TOP] === 0) {
      const v = this.opts.lru ? this.victim() : -1;
      if (v < 0) return errno('E2BIG');
      this.evicted = v;
      this.removeIndex(v);
    }
    const i = this.freeStack[--hdr[H.FREE_TOP]!]!;
    let addr: number;
    if (this.opts.prealloc || this.lock) {
      addr = this.elemAddr[i]!;
      this.mem.u8.fill(0, addr, addr + this.slotSize);
    } else {
      try {
        addr = this.cache!.alloc();
      } catch {
        hdr[H.FREE_TOP]!++;
        return errno('ENOMEM');
      }
      this.elemAddr[i] = addr;
      this.elemRegions.set(i, this.space.addRegion({ base: addr + this.keyRound, size: this.opts.valueArea, kind: 'map_value', name: `map ${this.opts.name} value`, writable: this.opts.progWritable !== false }));
    }
    // Re-read the space's bytes: an allocation may have grown (and detached) the old buffer.
    const u8 = this.mem.u8;
    const k = kb ?? u8;
    u8.set(k.subarray(ko, ko + this.keySize), addr);
    this.hashes[i] = h;
    const b = h & this.mask;
    this.next[i] = this.buckets[b]!;
    this.buckets[b] = i;
    hdr[H.COUNT]!++;
    this.created = true;
    if (this.lruPrev) this.lruPushFront(i);
    return i;
  }

  /** Delete the key at kb[ko..]: 0 or -ENOENT. */
  remove(kb: Uint8Array | null, ko: number): number {
    const i = this.find(kb, ko);
    if (i < 0) return errno('ENOENT');
    this.removeIndex(i);
    return 0;
  }

  removeIndex(i: number): void {
    this.sync();
    const b = this.hashes[i]! & this.mask;
    let p = this.buckets[b]!;
    if (p === i) this.buckets[b] = this.next[i]!;
    else {
      while (p >= 0 && this.next[p] !== i) p = this.next[p]!;
      if (p >= 0) this.next[p] = this.next[i]!;
    }
    this.next[i] = -1;
    if (this.lruPrev) this.lruUnlink(i);
    if (this.cache) {
      // A run may still hold the value pointer: the element (and its checked-mode region) outlives the grace period.
      this.cache.retire(this.elemAddr[i]!);
      this.elemAddr[i] = 0;
      const r = this.elemRegions.get(i);
      if (r) this.space.afterGracePeriod(() => this.space.removeRegion(r));
      this.elemRegions.delete(i);
    }
    this.freeStack[this.hdr[H.FREE_TOP]!++] = i;
    this.hdr[H.COUNT]!--;
  }

  /** First element in walk order, starting at bucket `from`; -1 when none. */
  firstFrom(from: number): number {
    this.sync();
    for (let b = from; b < this.nBuckets; b++) if (this.buckets[b]! >= 0) return this.buckets[b]!;
    return -1;
  }
  /** The element after `i` in walk order, or -1. */
  after(i: number): number {
    this.sync();
    if (this.next[i]! >= 0) return this.next[i]!;
    return this.firstFrom((this.hashes[i]! & this.mask) + 1);
  }
  bucketOf(i: number): number {
    this.sync();
    return this.hashes[i]! & this.mask;
  }

  /** A program looked element i up (LRU only): bpf_lru_node_set_ref. */
  mark(i: number): void {
    this.sync();
    if (this.lruRef) this.lruRef[i] = 1;
  }

  /** Element i was updated (LRU only): at the front, unreferenced (the kernel's fresh node). */
  touch(i: number): void {
    this.sync();
    if (!this.lruPrev) return;
    this.lruRef![i] = 0;
    if (this.hdr[H.LRU_HEAD] === i) return;
    this.lruUnlink(i);
    this.lruPushFront(i);
  }

  /**
   * The element a full LRU table evicts, or -1 when the list is empty: from
   * the back, a referenced element loses its bit and moves to the front (a
   * second chance), the first unreferenced one is the victim; after
   * max_entries + 1 steps (a corrupted list) the back one. The WebAssembly
   * probe does the same steps (hash-links.ts victimBody).
   */
  private victim(): number {
    const ref = this.lruRef!;
    const hdr = this.hdr;
    for (let steps = this.maxEntries + 1; ; steps--) {
      const t = hdr[H.LRU_TAIL]!;
      if (t < 0 || t >= this.maxEntries) return -1;
      if (steps === 0 || ref[t] === 0) return t;
      ref[t] = 0;
      this.lruUnlink(t);
      this.lruPushFront(t);
    }
  }
  private lruPushFront(i: number): void {
    const prev = this.lruPrev!;
    const next = this.lruNext!;
    const hdr = this.hdr;
    const head = hdr[H.LRU_HEAD]!;
    this.lruRef![i] = 0;
    prev[i] = -1;
    next[i] = head;
    if (head >= 0) prev[head] = i;
    hdr[H.LRU_HEAD] = i;
    if (hdr[H.LRU_TAIL]! < 0) hdr[H.LRU_TAIL] = i;
  }
  private lruUnlink(i: number): void {
    const prev = this.lruPrev!;
    const next = this.lruNext!;
    const hdr = this.hdr;
    const p = prev[i]!;
    const n = next[i]!;
    if (p >= 0) next[p] = n;
    else if (hdr[H.LRU_HEAD] === i) hdr[H.LRU_HEAD] = n;
    if (n >= 0) prev[n] = p;
    else if (hdr[H.LRU_TAIL] === i) hdr[H.LRU_TAIL] = p;
    prev[i] = -1;
    next[i] = -1;
  }

  /** Release every block (map close). */
  destroy(): void {
    if (this.stateAddr !== 0) {
      if (this.region) this.space.removeRegion(this.region);
      // A thread that attached to another's table frees nothing: the creator does.
      if (this.opts.attachAt !== undefined) return;
      this.space.free(this.pool);
      this.space.free(this.stateAddr);
      return;
    }
    this.cache?.destroy();
    for (const r of this.elemRegions.values()) this.space.removeRegion(r);
    this.elemRegions.clear();
  }
}
