/**
 * The layout of a hash table's state in the address space: the one place
 * that says where each word is, read by the JS table (src/maps/hash-table.ts, the
 * host API and the interpreter's helpers) and by the WebAssembly probe
 * (helpers/hash-probe.ts, the JIT's bpf_map_lookup_elem/update/delete), so the two
 * always agree.
 *
 * A preallocated table (and every table of a shared space) keeps its state
 * in one block of i32 words: a header (below), then the bucket heads
 * (nBuckets words, -1 when empty), the chain links `next`, the 32-bit
 * hashes and the free-element stack (max_entries words each), and for LRU
 * the prev/next recency links and the reference bits (max_entries words
 * each: lruArray gives their addresses). The elements
 * themselves are a second block, the pool: element i's key at
 * pool + i * slot, its value area at + keyRound (the kernel's struct
 * htab_elem keeps key and value together the same way).
 *
 * The map's descriptor carries the block's address at DESC_TABLE_STATE
 * (src/maps/descriptor.ts), so a program's map pointer leads to its table without a
 * call into JS.
 */

/** header word indices (i32) */
export const H = {
  /** MapLock word (shared spaces) */
  LOCK: 0,
  /** SeqCount word (shared spaces): odd while a writer changes the table */
  SEQ: 1,
  COUNT: 2,
  /** number of element numbers on the free stack */
  FREE_TOP: 3,
  LRU_HEAD: 4,
  LRU_TAIL: 5,
  SEED: 6,
  /** address of element 0 */
  POOL: 7,
  /** nBuckets - 1 */
  MASK: 8,
  KEY_SIZE: 9,
  /** bytes from an element's key to its value: key_size rounded up to 8 */
  KEY_ROUND: 10,
  /** bytes per element */
  SLOT_SIZE: 11,
  /** bytes an update copies (value_size) */
  VALUE_SIZE: 12,
  MAX_ENTRIES: 13,
  /** which program-side operations the WebAssembly probe may do itself (PROBE_*) */
  PROBE: 14,
  /** addresses of the arrays that follow the header */
  BUCKETS: 15,
  NEXT: 16,
  HASHES: 17,
  FREE: 18,
  /**
   * per-CPU tables of an unshared space: 1 + the CPU number of the program
   * call about to reach the WebAssembly probe, stored by the JIT at the
   * call site (inline-percpu-hash.ts) and cleared by whoever takes the call
   * (the probe, or the JS ops it falls back to); 0 sends the probe to JS
   */
  CPU: 19,
} as const;
export const HDR_WORDS = 20;

/** Offset of the state block's address in a hash map's descriptor (src/maps/descriptor.ts). */
export const DESC_TABLE_STATE = 32;

/** H.PROBE bits. A clear bit sends the operation to the map's JS ops (map-specific rules). */
export const PROBE_LOOKUP = 1;
/** update and delete (unshared, writable, non-LRU, non-per-CPU maps) */
export const PROBE_UPDATE = 2;
/**
 * the table is LRU: the probe's lookups set the element's reference bit, its
 * updates move the element to the front of the recency list, and an insert
 * into a full table evicts from the back, giving referenced elements a
 * second chance (HashTable.mark / touch / victim), with PROBE_LOOKUP / PROBE_UPDATE
 */
export const PROBE_LRU = 4;
/**
 * per-CPU values: the probe's lookups and updates address the value of the
 * CPU in H.CPU (the element's value area holds one value_size rounded up to
 * 8 per CPU), with PROBE_LOOKUP / PROBE_UPDATE
 */
export const PROBE_PERCPU = 8;

/** Bytes of the state block of a table with `nBuckets` buckets and `n` elements. */
export function stateWords(nBuckets: number, n: number, lru: boolean): number {
  return HDR_WORDS + nBuckets + 3 * n + (lru ? 3 * n : 0);
}

/** The LRU arrays, in their order after the free stack (max_entries words each). */
export const LRU_PREV = 0;
export const LRU_NEXT = 1;
/** bpf_lru_node's `ref`: 1 once a program looked the element up since it last moved */
export const LRU_REF = 2;
/** Byte address of LRU array `which` (LRU_*), given the free stack's address and max_entries. */
export function lruArray(free: number, maxEntries: number, which: number): number {
  return free + (which + 1) * maxEntries * 4;
}

/**
 * The key hash (murmur3's 32-bit mixing; the kernel uses jhash with a random
 * seed). Its constants are shared with the WebAssembly copy in helpers/hash-probe.ts.
 */
export const MURMUR = { c1: 0xcc9e2d51, c2: 0x1b873593, n: 0xe6546b64, f1: 0x85ebca6b, f2: 0xc2b2ae35 } as const;

/** A 32-bit hash of key bytes. */
export function hashBytes(b: Uint8Array, off: number, len: number, seed: number): number {
  let h = seed ^ len;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    let k = b[off + i]! | (b[off + i + 1]! << 8) | (b[off + i + 2]! << 16) | (b[off + i + 3]! << 24);
    k = Math.imul(k, MURMUR.c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, MURMUR.c2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + MURMUR.n) | 0;
  }
  let k = 0;
  for (let s = 0; i < len; i++, s += 8) k |= b[off + i]! << s;
  if (k !== 0 || (len & 3) !== 0) {
    k = Math.imul(k, MURMUR.c1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, MURMUR.c2);
  }
  h ^= h >>> 16;
  h = Math.imul(h, MURMUR.f1);
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR.f2);
  h ^= h >>> 16;
  return h >>> 0;
}
