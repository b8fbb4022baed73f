/**
 * The layout of an LPM trie (BPF_MAP_TYPE_LPM_TRIE) in the address space:
 * the one place that says where each word is, read and written by the JS
 * trie (src/maps/lpm-trie.ts: the host API and the interpreter's helpers)
 * and read by the WebAssembly lookup (helpers/lpm-probe.ts, the JIT's
 * bpf_map_lookup_elem), so the two always walk one trie.
 *
 * A small state block of i32 header words (below) points to the node pool:
 * `cap` nodes of `slot` bytes each, node i at pool + i * slot. A node is
 * kernel/bpf/lpm_trie.c's struct lpm_trie_node: its prefix length, its flags
 * (LPM_TREE_NODE_FLAG_IM for the intermediate nodes the trie adds where two
 * prefixes diverge), its two children (node numbers, -1 for none), the
 * address of its value (0 for an intermediate node: values are blocks of
 * their own, so a program's value pointer outlives the node's move when the
 * pool grows) and the key's data bytes (network order). The pool grows by
 * doubling up to 2 * max_entries - 1 nodes, the most a trie of max_entries
 * prefixes needs (every intermediate node has two children, so there are
 * fewer of them than real nodes); a growth moves the pool and rewrites the
 * header's POOL and CAP.
 *
 * The map's descriptor carries the state block's address at DESC_LPM_STATE
 * (src/maps/descriptor.ts), so a program's map pointer leads to its trie
 * without a call into JS.
 */

/** header word indices (i32) */
export const L = {
  /** the root's node number, -1 when the trie is empty */
  ROOT: 0,
  /** address of node 0 */
  POOL: 1,
  /** nodes the pool holds now: every node number below it addresses pool memory */
  CAP: 2,
  /** bytes per node */
  SLOT: 3,
  /** data_size * 8 */
  MAX_PREFIXLEN: 4,
  /** key_size - 4 */
  DATA_SIZE: 5,
  /** value_size: what a program's update copies */
  VALUE_SIZE: 6,
  /** PROG_UPDATE when programs may replace values in place (not BPF_F_RDONLY_PROG) */
  PROBE: 7,
} as const;
export const LPM_HDR_WORDS = 8;

/** Offset of the state block's address in an LPM trie's descriptor (after DESC_TABLE_STATE and DESC_RINGBUF_CTRL: every other map type has 0 here). */
export const DESC_LPM_STATE = 40;

/** byte offsets in a node */
export const N = {
  PREFIXLEN: 0,
  FLAGS: 4,
  /** child[0] at +8, child[1] at +12 */
  CHILD: 8,
  VALUE: 16,
  DATA: 24,
} as const;

/** L.PROBE bit: the WebAssembly update may replace an existing prefix's value itself (helpers/lpm-probe.ts). */
export const PROG_UPDATE = 1;

/** lpm_trie.c's LPM_TREE_NODE_FLAG_IM */
export const NODE_IM = 1;

/** Bytes per node for `dataSize` data bytes (8-aligned, so the data can be compared a word at a time). */
export function nodeSlot(dataSize: number): number {
  return N.DATA + ((dataSize + 7) & ~7);
}

/** The most nodes a trie of `maxEntries` prefixes holds at once (real ones plus intermediate ones). */
export function maxNodes(maxEntries: number): number {
  return 2 * maxEntries - 1;
}
