/**
 * bpf_map_lookup_elem on a hash map known at the call, compiled inline with
 * the map's constants (the kernel's htab_map_gen_lookup calls a lookup
 * specialised for the map the same way): the key's hash is the murmur3 of
 * hash-layout.ts unrolled for the key size with the seed folded in, the
 * chain walk reads the table's arrays at constant addresses (buckets, next,
 * hashes, the element pool: blocks never move while the map lives), and the
 * key comparison is unrolled into 8/4/2/1-byte loads at constant offsets.
 * The generic WebAssembly probe (helpers/hash-probe.ts) reads all of these
 * from the state block on every call; this does none of that.
 *
 * It declines (the call goes to the helper) unless the map is a
 * preallocated BPF_MapType.hash or lru_hash whose table lets programs look
 * up without JS (H.PROBE has PROBE_LOOKUP) or a BPF_MapType.percpu_hash or
 * lru_percpu_hash (the value of the run's CPU, from the JIT's CPU global),
 * in an unshared memory. An LRU lookup then also stores the element's
 * reference bit, as the kernel's htab_lru_map_gen_lookup emits
 * bpf_lru_node_set_ref inline (hash-table.ts says what the bit does)
 * (a shared table's readers check its seqcount, which the probe does), with
 * a key of at most MAX_INLINE_KEY bytes.
 *
 * Safety: only for verified programs (the verifier proved r2 points to
 * key_size readable bytes; the engine does not pass this inliner to the
 * checked variant). Every other address is the table's own: element numbers
 * are checked against max_entries before they index anything, and the walk
 * stops after max_entries + 1 steps even on a corrupted chain.
 */
import type { HelperInliner } from './compile.js';
import { knownMapInliner } from './known-map.js';
import { MapType } from '../../uapi/bpf-types.js';
import { Op, type FuncBody } from './wasm.js';
import { fmix32, mixBlock, mixK } from './murmur.js';
import { NULL_GUARD, type AddressSpace } from '../../memory/address-space.js';
import { DESC_TABLE_STATE, H, HDR_WORDS, LRU_REF, PROBE_LOOKUP, lruArray } from '../../memory/hash-layout.js';

/** Longest key compared inline (the unrolled code grows with it). */
export const MAX_INLINE_KEY = 64;

/** What the inline lookup bakes in: the table's header words. */
export interface HashMapLayout {
  seed: number;
  keySize: number;
  keyRound: number;
  slot: number;
  mask: number;
  maxEntries: number;
  pool: number;
  buckets: number;
  next: number;
  hashes: number;
  /** per-CPU tables: values per element (the CPUs) and bytes from one CPU's value to the next; 1 and 0 otherwise */
  slots: number;
  cpuStride: number;
  /** LRU tables: the address of the reference bits (hash-layout.ts LRU_REF); 0 otherwise */
  ref: number;
}

const PLAIN = new Set<number>([MapType.hash, MapType.lru_hash]);
const PER_CPU = new Set<number>([MapType.percpu_hash, MapType.lru_percpu_hash]);
const LRU = new Set<number>([MapType.lru_hash, MapType.lru_percpu_hash]);

/** The layout of a map whose lookups may be inlined, read from its descriptor and state block; else undefined. */
export function hashLayoutFromDescriptor(space: AddressSpace): (mapAddr: number) => HashMapLayout | undefined {
  return (mapAddr) => {
    if (space.shared) return undefined;
    if (mapAddr < NULL_GUARD || mapAddr + DESC_TABLE_STATE + 4 > space.size || mapAddr % 4 !== 0) return undefined;
    if (space.regionOf(mapAddr, DESC_TABLE_STATE + 4)?.kind !== 'map') return undefined;
    const type = space.readU32(mapAddr);
    if (!PLAIN.has(type) && !PER_CPU.has(type)) return undefined;
    const st = space.readU32(mapAddr + DESC_TABLE_STATE);
    if (st === 0 || st + HDR_WORDS * 4 > space.size) return undefined;
    const w = (i: number): number => space.readU32(st + i * 4);
    // A plain table says whether programs may look up without JS; a per-CPU one has no lookup-time rule.
    if (PLAIN.has(type) && !(w(H.PROBE) & PROBE_LOOKUP)) return undefined;
    // Per-CPU elements (maps/hash.ts HashBase): the key, then one value_size rounded to 8 per CPU (unshared spaces).
    const cpuStride = PER_CPU.has(type) ? (w(H.VALUE_SIZE) + 7) & ~7 : 0;
    const slots = cpuStride ? (w(H.SLOT_SIZE) - w(H.KEY_ROUND)) / cpuStride : 1;
    if (!Number.isInteger(slots) || slots < 1) return undefined;
    const l: HashMapLayout = {
      seed: w(H.SEED),
      keySize: w(H.KEY_SIZE),
      keyRound: w(H.KEY_ROUND),
      slot: w(H.SLOT_SIZE),
      mask: w(H.MASK),
      maxEntries: w(H.MAX_ENTRIES),
      pool: w(H.POOL),
      buckets: w(H.BUCKETS),
      next: w(H.NEXT),
      hashes: w(H.HASHES),
      slots,
      cpuStride,
      ref: LRU.has(type) ? lruArray(w(H.FREE), w(H.MAX_ENTRIES), LRU_REF) : 0,
    };
    if (l.keySize === 0 || l.keySize > MAX_INLINE_KEY || l.maxEntries === 0 || l.maxEntries > 0x7fffffff) return undefined;
    return l;
  };
}

/** h (local) = hash-layout.ts hashBytes of the keySize bytes at the i32 address `key()` */
function emitHash(c: FuncBody, l: HashMapLayout, key: () => void, h: number): void {
  c.i32ConstWide((l.seed ^ l.keySize) | 0); // the seed is random per map: the module's size must not be
  c.localSet(h);
  let i = 0;
  for (; i + 4 <= l.keySize; i += 4) {
    key();
    c.mem(Op.i32_load, 0, i);
    mixBlock(c, h);
  }
  // the tail bytes (1-3), little-endian; with none, hashBytes mixes nothing more
  if (i < l.keySize) {
    for (let s = 0; i < l.keySize; i++, s += 8) {
      key();
      c.mem(Op.i32_load8_u, 0, i);
      if (s > 0) {
        c.i32Const(s);
        c.op(Op.i32_shl);
        c.op(Op.i32_or);
      }
    }
    mixK(c);
    c.localGet(h);
    c.op(Op.i32_xor);
    c.localSet(h);
  }
  fmix32(c, h);
}

/** The inliner for bpf_map_lookup_elem on hash maps (`layoutOf` decides which). */
export function hashMapLookup(layoutOf: (mapAddr: number) => HashMapLayout | undefined): HelperInliner {
  return knownMapInliner(layoutOf, (s, l) => {
    const c = s.body;
    // r1..r5 are the helper's to clobber: r2 stays the key, r3 the element
    // number (u32 in i64), r4 the steps left, r5 the element's address.
    const [R0, KEY, I, STEPS, A] = [s.reg(0), s.reg(2), s.reg(3), s.reg(4), s.reg(5)];
    const HV = s.tmp32;
    const wrap = (r: number) => (): void => {
      c.localGet(r);
      c.op(Op.i32_wrap_i64);
    };
    emitHash(c, l, wrap(KEY), HV);
    // i = buckets[h & mask]
    c.localGet(HV);
    c.i32Const(l.mask | 0);
    c.op(Op.i32_and);
    c.i32Const(2);
    c.op(Op.i32_shl);
    c.mem(Op.i32_load, 2, l.buckets);
    c.op(Op.i64_extend_i32_u);
    c.localSet(I);
    c.i64ConstNum(l.maxEntries + 1);
    c.localSet(STEPS);
    c.i64Const32(0);
    c.localSet(R0);
    c.blockStart(Op.block); // done
    c.blockStart(Op.loop); // walk
    // the chain's end (-1) or anything not an element number; a walk longer than the table
    c.localGet(I);
    c.i64ConstNum(l.maxEntries);
    c.op(Op.i64_ge_u);
    c.localGet(STEPS);
    c.op(Op.i64_eqz);
    c.op(Op.i32_or);
    c.brIf(1);
    c.localGet(STEPS);
    c.i64Const32(1);
    c.op(Op.i64_sub);
    c.localSet(STEPS);
    c.blockStart(Op.block); // next
    // hashes[i] == h
    wrap(I)();
    c.i32Const(2);
    c.op(Op.i32_shl);
    c.mem(Op.i32_load, 2, l.hashes);
    c.localGet(HV);
    c.op(Op.i32_ne);
    c.brIf(0);
    // the key at pool + i * slot, compared 8/4/2/1 bytes at a time
    wrap(I)();
    c.i32Const(l.slot | 0);
    c.op(Op.i32_mul);
    c.i32Const(l.pool | 0);
    c.op(Op.i32_add);
    c.op(Op.i64_extend_i32_u);
    c.localSet(A);
    let off = 0;
    for (const [size, load, ne] of [[8, Op.i64_load, Op.i64_ne], [4, Op.i32_load, Op.i32_ne], [2, Op.i64_load16_u, Op.i64_ne], [1, Op.i32_load8_u, Op.i32_ne]] as const) {
      for (; off + size <= l.keySize; off += size) {
        wrap(A)();
        c.mem(load, 0, off);
        wrap(KEY)();
        c.mem(load, 0, off);
        c.op(ne);
        c.brIf(0);
      }
    }
    // found: an LRU element is referenced now (i < max_entries: the walk checked it)
    if (l.ref !== 0) {
      wrap(I)();
      c.i32Const(2);
      c.op(Op.i32_shl);
      c.i32Const(1);
      c.mem(Op.i32_store, 2, l.ref);
    }
    // the value follows the key (a per-CPU element: this CPU's, the CPU number wrapping as HashBase.valueAddrOf does)
    c.localGet(A);
    c.i64ConstNum(l.keyRound);
    c.op(Op.i64_add);
    if (l.slots > 1) {
      c.globalGet(s.cpuGlobal);
      c.i32Const(l.slots);
      c.op(Op.i32_rem_u);
      c.i32Const(l.cpuStride);
      c.op(Op.i32_mul);
      c.op(Op.i64_extend_i32_u);
      c.op(Op.i64_add);
    }
    c.localSet(R0);
    c.br(2);
    c.end(); // next:
    wrap(I)();
    c.i32Const(2);
    c.op(Op.i32_shl);
    c.mem(Op.i32_load, 2, l.next);
    c.op(Op.i64_extend_i32_u);
    c.localSet(I);
    c.br(0);
    c.end();
    c.end();
  });
}
