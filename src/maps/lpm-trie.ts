/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest-prefix match.
 *
 * Keys are `struct bpf_lpm_trie_key_u8 { u32 prefixlen; u8 data[]; }`
 * (prefixlen in host byte order, data in network order, bits numbered from
 * the most significant bit of data[0]). The trie has the kernel's shape: a
 * path-compressed binary trie whose nodes are the stored prefixes plus
 * "intermediate" nodes where two prefixes diverge, so the get-next-key walk
 * (a postorder traversal: child[0], child[1], node) gives the kernel's order.
 *
 * - lookup (program and host): the longest stored prefix matching the key's
 *   first `prefixlen` bits;
 * - update and delete: exact (prefixlen, data) match; flags ANY/NOEXIST/EXIST;
 *   a full trie is ENOSPC (not E2BIG), a prefixlen past the data is EINVAL;
 * - get-next-key: a missing key restarts at the leftmost (first postorder) node.
 *
 * Values live in the AddressSpace (one block per stored prefix; the map is
 * always BPF_F_NO_PREALLOC). The stored key data is kept whole, as the kernel
 * copies all data bytes, so get-next-key returns the bits past the prefix as
 * they were given.
 */
import { ElemCache } from './elem-cache.js';
import type { MapSpec } from '../object/spec.js';
import { BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import type { Region } from '../memory/address-space.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_RDONLY_PROG, BPF_NOEXIST, roundUp } from './flags.js';
import { DESC_LPM_STATE, L, LPM_HDR_WORDS, maxNodes, N, NODE_IM, nodeSlot, PROG_UPDATE } from '../memory/lpm-layout.js';

/** The pool's first size in nodes (it doubles from there, up to maxNodes). */
const FIRST_CAP = 16;
/** no node (a child slot's or the root's -1) */
const NONE = -1;

function bit(data: Uint8Array, index: number): 0 | 1 {
  return ((data[index >> 3]! >> (7 - (index & 7))) & 1) as 0 | 1;
}

export class LpmTrie extends BpfMap<Uint8Array> {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private nEntries = 0;
  /** the state block (memory/lpm-layout.ts L) and the node pool */
  private readonly state: number;
  private pool = 0;
  private cap = 0;
  private readonly slot: number;
  private readonly nodeLimit: number;
  /** node numbers not in the trie, popped by alloc */
  private freeNodes: number[] = [];
  /** views over the memory, remade when it grows (an unshared memory's growth detaches them) */
  private gen = -1;
  private w32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private m8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.slot = nodeSlot(this.dataSize);
    this.nodeLimit = maxNodes(this.maxEntries);
    try {
      this.state = this.space.alloc(LPM_HDR_WORDS * 4, 8);
      this.views();
      this.hdrSet(L.ROOT, NONE);
      this.hdrSet(L.SLOT, this.slot);
      this.hdrSet(L.MAX_PREFIXLEN, this.maxPrefixlen);
      this.hdrSet(L.DATA_SIZE, this.dataSize);
      this.hdrSet(L.VALUE_SIZE, this.valueSize);
      this.hdrSet(L.PROBE, this.progWriteDenied() ? 0 : PROG_UPDATE);
    } catch (e) {
      this.close();
      throw e;
    }
    this.space.writeU32(this.addr + DESC_LPM_STATE, this.state);
  }

  get size(): number {
    return this.nEntries;
  }

  // ---- the layout (memory/lpm-layout.ts), through views remade after growth

  private views(): void {
    if (this.gen === this.space.generation && this.m8.byteLength !== 0) return;
    this.m8 = this.space.u8;
    this.w32 = new Int32Array(this.m8.buffer, this.m8.byteOffset, this.m8.byteLength >> 2);
    this.gen = this.space.generation;
  }
  private hdr(w: number): number {
    this.views();
    return this.w32[(this.state >> 2) + w]!;
  }
  private hdrSet(w: number, v: number): void {
    this.views();
    this.w32[(this.state >> 2) + w] = v;
  }
  private at(n: number): number {
    return this.pool + n * this.slot;
  }
  private plen(n: number): number {
    this.views();
    return this.w32[(this.at(n) + N.PREFIXLEN) >> 2]!;
  }
  private isIm(n: number): boolean {
    this.views();
    return (this.w32[(this.at(n) + N.FLAGS) >> 2]! & NODE_IM) !== 0;
  }
  private child(n: number, side: 0 | 1): number {
    this.views();
    return this.w32[(this.at(n) + N.CHILD + side * 4) >> 2]!;
  }
  private setChild(n: number, side: 0 | 1, c: number): void {
    this.views();
    this.w32[(this.at(n) + N.CHILD + side * 4) >> 2] = c;
  }
  private valueAt(n: number): number {
    this.views();
    return this.w32[(this.at(n) + N.VALUE) >> 2]! >>> 0;
  }
  private setFields(n: number, prefixlen: number, im: boolean, value: number): void {
    this.views();
    const a = this.at(n) >> 2;
    this.w32[a + (N.PREFIXLEN >> 2)] = prefixlen;
    this.w32[a + (N.FLAGS >> 2)] = im ? NODE_IM : 0;
    this.w32[a + (N.VALUE >> 2)] = value;
  }
  private setData(n: number, data: Uint8Array): void {
    this.views();
    this.m8.set(data, this.at(n) + N.DATA);
  }
  private dataOf(n: number): Uint8Array {
    this.views();
    const a = this.at(n) + N.DATA;
    return this.m8.slice(a, a + this.dataSize);
  }
  private bitOf(n: number, index: number): 0 | 1 {
    this.views();
    return ((this.m8[this.at(n) + N.DATA + (index >> 3)]! >> (7 - (index & 7))) & 1) as 0 | 1;
  }
  /** the root, or the child slot `side` of node `owner` (owner NONE: the root) */
  private slotGet(owner: number, side: 0 | 1): number {
    return owner === NONE ? this.hdr(L.ROOT) : this.child(owner, side);
  }
  private slotSet(owner: number, side: 0 | 1, n: number): void {
    if (owner === NONE) this.hdrSet(L.ROOT, n);
    else this.setChild(owner, side, n);
  }

  /** A free node with no children (the pool doubles when none is left); throws ENOMEM past the space. */
  private allocNode(): number {
    if (this.freeNodes.length === 0) this.grow();
    const n = this.freeNodes.pop()!;
    this.setChild(n, 0, NONE);
    this.setChild(n, 1, NONE);
    return n;
  }
  private freeNode(n: number): void {
    this.setFields(n, 0, false, 0);
    this.freeNodes.push(n);
  }
  private grow(): void {
    const cap = Math.min(this.nodeLimit, Math.max(FIRST_CAP, this.cap * 2));
    if (cap <= this.cap) throw this.err('ENOMEM', 'node pool exhausted');
    const pool = this.space.alloc(cap * this.slot, 8);
    const old = this.pool;
    if (this.cap > 0) {
      this.views();
      this.m8.copyWithin(pool, old, old + this.cap * this.slot);
      // A program's lookup holds no node across calls (it runs to its end in one call), but a run in flight may
      // still be inside one on another stack frame of this thread: the old pool goes after the grace period.
      this.space.retire(old);
    }
    for (let n = cap - 1; n >= this.cap; n--) this.freeNodes.push(n);
    this.pool = pool;
    this.cap = cap;
    this.hdrSet(L.POOL, pool);
    this.hdrSet(L.CAP, cap);
  }

  /** longest_prefix_match: leading bits node `n` and the key agree on, at most min(both prefix lengths). */
  private lpm(n: number, prefixlen: number, data: Uint8Array): number {
    this.views();
    const limit = Math.min(this.plen(n), prefixlen);
    const u8 = this.m8;
    const a = this.at(n) + N.DATA;
    let m = 0;
    for (let i = 0; m < limit; i++) {
      const x = u8[a + i]! ^ data[i]!;
      if (x === 0) {
        m += 8;
        continue;
      }
      m += Math.clz32(x) - 24;
      break;
    }
    return Math.min(m, limit);
  }

  /** trie_lookup_elem: the node holding the longest matching prefix, or NONE. */
  private longest(prefixlen: number, data: Uint8Array): number {
    let found = NONE;
    if (prefixlen > this.maxPrefixlen) return NONE;
    for (let node = this.hdr(L.ROOT); node !== NONE; ) {
      const m = this.lpm(node, prefixlen, data);
      if (m === this.maxPrefixlen) {
        found = node;
        break;
      }
      const np = this.plen(node);
      if (m < np) break;
      if (!this.isIm(node)) found = node;
      node = this.child(node, bit(data, np));
    }
    return found;
  }

  private parseKey(u8: Uint8Array, off: number): { prefixlen: number; data: Uint8Array } {
    const prefixlen = (u8[off]! | (u8[off + 1]! << 8) | (u8[off + 2]! << 16) | (u8[off + 3]! << 24)) >>> 0;
    return { prefixlen, data: u8.slice(off + 4, off + 4 + this.dataSize) };
  }

  /** value address -> its region (checked-mode accesses look values up by region) */
  private readonly regions = new Map<number, Region>();
  /** the values' memory: this map's own, reused after the grace period (elem-cache.ts) */
  private cache: ElemCache | undefined;
  private newValue(): number {
    const a = (this.cache ??= new ElemCache(this.space, roundUp(this.valueSize, 8), this.maxEntries, this.name)).alloc();
    this.regions.set(a, this.space.addRegion({ base: a, size: this.valueSize, kind: 'map_value', name: `lpm_trie ${this.name} value`, writable: !(this.flags & BPF_F_RDONLY_PROG) }));
    return a;
  }
  private freeValue(a: number): void {
    // A run may still hold the value pointer (trie_delete_elem frees the node after RCU).
    this.cache!.retire(a);
    const r = this.regions.get(a);
    if (r) this.space.afterGracePeriod(() => this.space.removeRegion(r));
    this.regions.delete(a);
  }

  /** A new real node for (prefixlen, data) with a fresh value. */
  private newNode(prefixlen: number, data: Uint8Array): number {
    // Node first: a pool growth may move the memory's views, never the values.
    const n = this.allocNode();
    let value: number;
    try {
      value = this.newValue();
    } catch (e) {
      this.freeNode(n);
      throw e;
    }
    this.setFields(n, prefixlen, false, value);
    this.setData(n, data);
    return n;
  }

  /** trie_update_elem; returns the node whose value to write, or a negative errno. */
  private insert(prefixlen: number, data: Uint8Array, flags: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST || flags < 0) return errno('EINVAL');
    if (flags & BPF_F_LOCK) return errno('EINVAL');
    if (prefixlen > this.maxPrefixlen) return errno('EINVAL');
    const checkAdd = (): number => {
      if (flags === BPF_EXIST) return errno('ENOENT');
      if (this.nEntries === this.maxEntries) return errno('ENOSPC');
      return 0;
    };
    let parent = NONE;
    let side: 0 | 1 = 0;
    let node = this.hdr(L.ROOT);
    let m = 0;
    while (node !== NONE) {
      m = this.lpm(node, prefixlen, data);
      const np = this.plen(node);
      if (np !== m || np === prefixlen || np === this.maxPrefixlen) break;
      parent = node;
      side = bit(data, np);
      node = this.child(node, side);
    }
    if (node === NONE) {
      const rc = checkAdd();
      if (rc) return rc;
      const n = this.newNode(prefixlen, data);
      this.slotSet(parent, side, n);
      this.nEntries++;
      return n;
    }
    if (this.plen(node) === m) {
      // Exact match (node.prefixlen === prefixlen): replace the value, or turn an intermediate node into a real one.
      if (!this.isIm(node)) {
        if (flags === BPF_NOEXIST) return errno('EEXIST');
        this.setData(node, data);
        return node;
      }
      const rc = checkAdd();
      if (rc) return rc;
      this.setFields(node, prefixlen, false, this.newValue());
      this.setData(node, data);
      this.nEntries++;
      return node;
    }
    const rc = checkAdd();
    if (rc) return rc;
    // The nodes this takes before any link changes: a failed allocation leaves the trie as it was.
    const n = this.newNode(prefixlen, data);
    if (m === prefixlen) {
      // The new prefix covers the node: it becomes its parent.
      this.setChild(n, this.bitOf(node, m), node);
      this.slotSet(parent, side, n);
    } else {
      let im: number;
      try {
        im = this.allocNode();
      } catch (e) {
        this.freeValue(this.valueAt(n));
        this.freeNode(n);
        throw e;
      }
      this.setFields(im, m, true, 0);
      this.setData(im, this.dataOf(node));
      if (bit(data, m)) {
        this.setChild(im, 0, node);
        this.setChild(im, 1, n);
      } else {
        this.setChild(im, 0, n);
        this.setChild(im, 1, node);
      }
      this.slotSet(parent, side, im);
    }
    this.nEntries++;
    return n;
  }

  /** trie_delete_elem */
  private remove(prefixlen: number, data: Uint8Array): number {
    if (prefixlen > this.maxPrefixlen) return errno('EINVAL');
    // Slots are (owner, side); owner NONE = the root.
    let trim: [number, 0 | 1] = [NONE, 0];
    let trim2 = trim;
    let parent = NONE;
    let node = this.slotGet(NONE, 0);
    let m = 0;
    while (node !== NONE) {
      m = this.lpm(node, prefixlen, data);
      const np = this.plen(node);
      if (np !== m || np === prefixlen) break;
      parent = node;
      trim2 = trim;
      trim = [node, bit(data, np)];
      node = this.slotGet(trim[0], trim[1]);
    }
    if (node === NONE || this.plen(node) !== prefixlen || this.plen(node) !== m || this.isIm(node)) return errno('ENOENT');
    this.nEntries--;
    this.freeValue(this.valueAt(node));
    const [c0, c1] = [this.child(node, 0), this.child(node, 1)];
    if (c0 !== NONE && c1 !== NONE) {
      this.setFields(node, this.plen(node), true, 0);
      return 0;
    }
    if (parent !== NONE && this.isIm(parent) && c0 === NONE && c1 === NONE) {
      this.slotSet(trim2[0], trim2[1], this.child(parent, 0) === node ? this.child(parent, 1) : this.child(parent, 0));
      this.freeNode(parent);
      this.freeNode(node);
      return 0;
    }
    this.slotSet(trim[0], trim[1], c0 !== NONE ? c0 : c1);
    this.freeNode(node);
    return 0;
  }

  // ---- program side

  override lookupElem(keyAddr: number, _cpu = 0): number {
    const { prefixlen, data } = this.parseKey(this.space.u8, keyAddr);
    const n = this.longest(prefixlen, data);
    return n === NONE ? 0 : this.valueAt(n);
  }
  override updateElem(keyAddr: number, valueAddr: number, flags: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    const { prefixlen, data } = this.parseKey(this.space.u8, keyAddr);
    let n: number;
    try {
      n = this.insert(prefixlen, data, flags);
    } catch {
      return errno('ENOMEM'); // the space cannot hold another node or value (kmalloc failing in trie_update_elem)
    }
    if (n < 0) return n;
    const u8 = this.space.u8;
    const v = this.valueAt(n);
    u8.copyWithin(v, valueAddr, valueAddr + this.valueSize);
    return 0;
  }
  override deleteElem(keyAddr: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    const { prefixlen, data } = this.parseKey(this.space.u8, keyAddr);
    return this.remove(prefixlen, data);
  }

  // ---- host side

  /** Build a key from a prefix length and data bytes (network order). */
  static key(prefixlen: number, data: Uint8Array | number[]): Uint8Array {
    const k = new Uint8Array(4 + data.length);
    new DataView(k.buffer).setUint32(0, prefixlen, true);
    k.set(data, 4);
    return k;
  }

  override getView(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const { prefixlen, data } = this.parseKey(this.key(key), 0);
    const n = this.longest(prefixlen, data);
    return n !== NONE ? this.space.bytes(this.valueAt(n), this.valueSize) : undefined;
  }
  override get(key: KeyInput): Uint8Array | undefined {
    return this.getView(key)?.slice();
  }
  override set(key: KeyInput, value: ValueInput, flags = 0): void {
    this.checkHostWrite();
    const v = this.value(value);
    const { prefixlen, data } = this.parseKey(this.key(key), 0);
    if (prefixlen > this.maxPrefixlen) throw this.err('EINVAL', `prefixlen ${prefixlen} > ${this.maxPrefixlen}`);
    const n = this.insert(prefixlen, data, flags);
    if (n < 0) {
      this.throwErrno(n, n === errno('EEXIST') ? 'prefix exists (BPF_NOEXIST)' : n === errno('ENOENT') ? 'prefix does not exist (BPF_EXIST)' : n === errno('ENOSPC') ? `trie is full (max_entries ${this.maxEntries})` : `bad update flags ${flags}`);
      return;
    }
    this.space.write(this.valueAt(n), v);
  }
  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const { prefixlen, data } = this.parseKey(this.key(key), 0);
    const rc = this.remove(prefixlen, data);
    if (rc < 0) this.throwErrno(rc, rc === errno('EINVAL') ? `prefixlen ${prefixlen} > ${this.maxPrefixlen}` : 'no such prefix');
  }

  /** trie_get_next_key: postorder successor; a missing key restarts at the leftmost node. */
  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const leftmost = (from: number): number => {
      let next = NONE;
      for (let node = from; node !== NONE; ) {
        if (this.isIm(node)) node = this.child(node, 0);
        else {
          next = node;
          const c0 = this.child(node, 0);
          node = c0 !== NONE ? c0 : this.child(node, 1);
        }
      }
      return next;
    };
    const out = (n: number): Uint8Array | undefined => (n !== NONE ? LpmTrie.key(this.plen(n), this.dataOf(n)) : undefined);
    const root = this.hdr(L.ROOT);
    if (key === undefined) return out(leftmost(root));
    const { prefixlen, data } = this.parseKey(this.key(key), 0);
    if (prefixlen > this.maxPrefixlen) return out(leftmost(root));
    const stack: number[] = [];
    let node = root;
    let m = 0;
    while (node !== NONE) {
      stack.push(node);
      m = this.lpm(node, prefixlen, data);
      const np = this.plen(node);
      if (np !== m || np === prefixlen) break;
      node = this.child(node, bit(data, np));
    }
    if (node === NONE || this.plen(node) !== m || this.isIm(node)) return out(leftmost(root));
    let cur = stack[stack.length - 1]!;
    for (let sp = stack.length - 1; sp > 0; sp--) {
      const parent = stack[sp - 1]!;
      const p1 = this.child(parent, 1);
      if (this.child(parent, 0) === cur && p1 !== NONE) return out(leftmost(p1));
      if (!this.isIm(parent)) return out(parent);
      cur = parent;
    }
    return undefined;
  }

  protected override freeStorage(): void {
    // No program can reach the trie once the map is released: the pool and the state go now, the values' cache with its blocks.
    if (this.state !== undefined) {
      this.space.writeU32(this.addr + DESC_LPM_STATE, 0);
      if (this.pool) this.space.free(this.pool);
      this.space.free(this.state);
    }
    this.pool = 0;
    this.cap = 0;
    this.freeNodes = [];
    for (const r of this.regions.values()) this.space.removeRegion(r);
    this.regions.clear();
    this.cache?.destroy();
  }
}
