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

interface TrieNode {
  prefixlen: number;
  data: Uint8Array;
  child: [TrieNode | null, TrieNode | null];
  im: boolean;
  /** value address in the space (0 for intermediate nodes) */
  valueAddr: number;
}

function bit(data: Uint8Array, index: number): 0 | 1 {
  return ((data[index >> 3]! >> (7 - (index & 7))) & 1) as 0 | 1;
}

export class LpmTrie extends BpfMap<Uint8Array> {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private root: TrieNode | null = null;
  private nEntries = 0;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
  }

  get size(): number {
    return this.nEntries;
  }

  private lpm(node: TrieNode, prefixlen: number, data: Uint8Array): number {
    const limit = Math.min(node.prefixlen, prefixlen);
    let n = 0;
    for (let i = 0; n < limit; i++) {
      const x = node.data[i]! ^ data[i]!;
      if (x === 0) {
        n += 8;
        continue;
      }
      n += Math.clz32(x) - 24;
      break;
    }
    return Math.min(n, limit);
  }

  /** trie_lookup_elem: the node holding the longest matching prefix. */
  private longest(prefixlen: number, data: Uint8Array): TrieNode | null {
    let found: TrieNode | null = null;
    if (prefixlen > this.maxPrefixlen) return null;
    for (let node = this.root; node; ) {
      const m = this.lpm(node, prefixlen, data);
      if (m === this.maxPrefixlen) {
        found = node;
        break;
      }
      if (m < node.prefixlen) break;
      if (!node.im) found = node;
      node = node.child[bit(data, node.prefixlen)];
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

  /** trie_update_elem; returns the node whose value to write, or a negative errno. */
  private insert(prefixlen: number, data: Uint8Array, flags: number): TrieNode | number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST || flags < 0) return errno('EINVAL');
    if (flags & BPF_F_LOCK) return errno('EINVAL');
    if (prefixlen > this.maxPrefixlen) return errno('EINVAL');
    const checkAdd = (): number => {
      if (flags === BPF_EXIST) return errno('ENOENT');
      if (this.nEntries === this.maxEntries) return errno('ENOSPC');
      return 0;
    };
    const mk = (): TrieNode => ({ prefixlen, data: data.slice(), child: [null, null], im: false, valueAddr: this.newValue() });
    let parent: TrieNode | null = null;
    let side: 0 | 1 = 0;
    let node = this.root;
    let m = 0;
    while (node) {
      m = this.lpm(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen || node.prefixlen === this.maxPrefixlen) break;
      parent = node;
      side = bit(data, node.prefixlen);
      node = node.child[side];
    }
    const put = (n: TrieNode): void => {
      if (parent) parent.child[side] = n;
      else this.root = n;
    };
    if (!node) {
      const rc = checkAdd();
      if (rc) return rc;
      const n = mk();
      put(n);
      this.nEntries++;
      return n;
    }
    if (node.prefixlen === m) {
      // Exact match (node.prefixlen === prefixlen): replace the value, or turn an intermediate node into a real one.
      if (!node.im) {
        if (flags === BPF_NOEXIST) return errno('EEXIST');
        node.data = data.slice();
        return node;
      }
      const rc = checkAdd();
      if (rc) return rc;
      node.im = false;
      node.data = data.slice();
      node.valueAddr = this.newValue();
      this.nEntries++;
      return node;
    }
    const rc = checkAdd();
    if (rc) return rc;
    const n = mk();
    if (m === prefixlen) {
      // The new prefix covers the node: it becomes its parent.
      n.child[bit(node.data, m)] = node;
      put(n);
    } else {
      const im: TrieNode = { prefixlen: m, data: node.data.slice(), child: [null, null], im: true, valueAddr: 0 };
      if (bit(data, m)) {
        im.child[0] = node;
        im.child[1] = n;
      } else {
        im.child[0] = n;
        im.child[1] = node;
      }
      put(im);
    }
    this.nEntries++;
    return n;
  }

  /** trie_delete_elem */
  private remove(prefixlen: number, data: Uint8Array): number {
    if (prefixlen > this.maxPrefixlen) return errno('EINVAL');
    // Slots are represented as (owner, side); owner null = root.
    type Slot = { owner: TrieNode | null; side: 0 | 1 };
    const get = (s: Slot): TrieNode | null => (s.owner ? s.owner.child[s.side] : this.root);
    const set = (s: Slot, n: TrieNode | null): void => {
      if (s.owner) s.owner.child[s.side] = n;
      else this.root = n;
    };
    let trim: Slot = { owner: null, side: 0 };
    let trim2: Slot = trim;
    let parent: TrieNode | null = null;
    let node = get(trim);
    let m = 0;
    while (node) {
      m = this.lpm(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      parent = node;
      trim2 = trim;
      trim = { owner: node, side: bit(data, node.prefixlen) };
      node = get(trim);
    }
    if (!node || node.prefixlen !== prefixlen || node.prefixlen !== m || node.im) return errno('ENOENT');
    this.nEntries--;
    this.freeValue(node.valueAddr);
    node.valueAddr = 0;
    if (node.child[0] && node.child[1]) {
      node.im = true;
      return 0;
    }
    if (parent && parent.im && !node.child[0] && !node.child[1]) {
      set(trim2, parent.child[0] === node ? parent.child[1] : parent.child[0]);
      return 0;
    }
    set(trim, node.child[0] ?? node.child[1]);
    return 0;
  }

  // ---- program side

  override lookupElem(keyAddr: number, _cpu = 0): number {
    const { prefixlen, data } = this.parseKey(this.space.u8, keyAddr);
    return this.longest(prefixlen, data)?.valueAddr ?? 0;
  }
  override updateElem(keyAddr: number, valueAddr: number, flags: number, _cpu = 0): number {
    if (this.progWriteDenied()) return errno('EPERM');
    const { prefixlen, data } = this.parseKey(this.space.u8, keyAddr);
    const n = this.insert(prefixlen, data, flags);
    if (typeof n === 'number') return n;
    this.space.u8.copyWithin(n.valueAddr, valueAddr, valueAddr + this.valueSize);
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
    return n ? this.space.bytes(n.valueAddr, this.valueSize) : undefined;
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
    if (typeof n === 'number') {
      this.throwErrno(n, n === errno('EEXIST') ? 'prefix exists (BPF_NOEXIST)' : n === errno('ENOENT') ? 'prefix does not exist (BPF_EXIST)' : n === errno('ENOSPC') ? `trie is full (max_entries ${this.maxEntries})` : `bad update flags ${flags}`);
      return;
    }
    this.space.write(n.valueAddr, v);
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
    const leftmost = (from: TrieNode | null): TrieNode | null => {
      let next: TrieNode | null = null;
      for (let node = from; node; ) {
        if (node.im) node = node.child[0];
        else {
          next = node;
          node = node.child[0] ?? next.child[1];
        }
      }
      return next;
    };
    const out = (n: TrieNode | null): Uint8Array | undefined => (n ? LpmTrie.key(n.prefixlen, n.data) : undefined);
    if (key === undefined) return out(leftmost(this.root));
    const { prefixlen, data } = this.parseKey(this.key(key), 0);
    if (prefixlen > this.maxPrefixlen) return out(leftmost(this.root));
    const stack: TrieNode[] = [];
    let node = this.root;
    let m = 0;
    while (node) {
      stack.push(node);
      m = this.lpm(node, prefixlen, data);
      if (node.prefixlen !== m || node.prefixlen === prefixlen) break;
      node = node.child[bit(data, node.prefixlen)];
    }
    if (!node || node.prefixlen !== m || node.im) return out(leftmost(this.root));
    let cur = stack[stack.length - 1]!;
    for (let sp = stack.length - 1; sp > 0; sp--) {
      const parent = stack[sp - 1]!;
      if (parent.child[0] === cur && parent.child[1]) return out(leftmost(parent.child[1]));
      if (!parent.im) return out(parent);
      cur = parent;
    }
    return undefined;
  }

  protected override freeStorage(): void {
    const walk = (n: TrieNode | null): void => {
      if (!n) return;
      walk(n.child[0]);
      walk(n.child[1]);
      n.valueAddr = 0;
    };
    walk(this.root);
    this.root = null;
    for (const r of this.regions.values()) this.space.removeRegion(r);
    this.regions.clear();
    this.cache?.destroy();
  }
}
