/**
 * bpf_map_lookup_elem on an LPM trie in WebAssembly: a small hand-assembled
 * module over the runtime's memory that walks the trie whose nodes
 * memory/lpm-layout.ts lays out (the nodes LpmTrie keeps), so a
 * JIT-compiled program's lookup is a wasm-to-wasm call instead of a call
 * into JS. The walk is kernel/bpf/lpm_trie.c's trie_lookup_elem step for
 * step, as LpmTrie.longest does it: at each node the longest common prefix
 * of the node's and the key's data, at most min(both prefix lengths)
 * (longest_prefix_match); a full-length match ends the walk, a match shorter
 * than the node's prefix too; a real (not intermediate) node on the way is
 * the best match so far; then the child the key's next bit picks.
 *
 * The module's one export has the helper's 32-bit import signature
 * (pc, map, key) -> value address or 0. A map whose descriptor has no trie
 * state (DESC_LPM_STATE 0: every other map type) goes to the operation it
 * was given: for a lookup the hash probe, which this one stands in front of
 * (helpers/maps.ts); for an update the JS helper (this one stands behind the
 * hash probe's update).
 *
 * Safety: linked only into the JIT's plain variant (verified programs: the
 * map pointer is a map's descriptor, the key has key_size readable bytes)
 * and only for unshared memories (LPM tries are not shareable). A key
 * prefix length above the trie's maximum finds nothing (as the kernel's
 * lookup), so every key byte read is below data_size; a node number is
 * checked below the pool's node count before it is used, the walk is cut
 * after that many steps, and the data compared in a node is read a word
 * or a byte at a time only while it lies within data_size bytes (the key's
 * data; a node's slot holds as many), whatever the node's stored prefix
 * length says. The bit that picks the child is at the node's prefix length,
 * which the walk only reaches when it is below the match length, itself at
 * most the key's prefix length: inside the key (and, from W, inside its
 * first 4 or 8 bytes, read only when data_size is as long).
 *
 * Speed (issue 17): a lookup is a chain of dependent loads, a node's child
 * number to its address to its prefix length to the key's bit to the next
 * child, as in the kernel; this code keeps the chain shorter: the key's
 * first 8 bytes in a local (no load for a bit below 64), both children read
 * in one load beside the prefix length (the bit selects, no load after it),
 * the node's address by a shift when the slot size is a power of two (no
 * multiply), and the prefix compared a word at a time; for IPv4's and IPv6's
 * data sizes in straight code against the key's words in locals. Those
 * steps are lpm-walk.ts's.
 */
import { FuncBody, I32, I64, ModuleBuilder, Op, type ValType } from '../vm/jit/wasm.js';
import { ERRNO_VALUES } from '../errors.js';
import { BPF_EXIST, BPF_NOEXIST } from '../uapi/update-flags.js';
import { L, N, NODE_IM, PROG_UPDATE } from '../memory/lpm-layout.js';
import { copyBody, hdrGet, returnIf } from './wasm-code.js';
import { WALK_LOCALS, WALK_LOCALS64, fallback, nextChild, nodeMatch, walkLocals, walkSpecialised, walkStart } from './lpm-walk.js';
import type { ProbeFallback } from './hash-probe.js';

/** lookup(pc, map, key) -> value address or 0 (trie_lookup_elem, LpmTrie.longest) */
function lookupBody(): FuncBody {
  const w = walkLocals(3, 2, 1);
  const FOUND = 3 + WALK_LOCALS;
  const c = new FuncBody([[WALK_LOCALS + 1, I32], [WALK_LOCALS64, I64]]);
  // a prefix length past the data finds nothing
  walkStart(c, w, 3, () => c.i32Const(0));
  c.i32Const(0);
  c.localSet(FOUND);
  walkSpecialised(c, w, (ds) => {
    c.blockStart(Op.block); // done
    c.blockStart(Op.loop); // walk
    nodeMatch(c, w, ds);
    // a match of the whole data: this node (both prefixes are full length)
    c.localGet(w.M);
    c.localGet(w.MAX);
    c.op(Op.i32_eq);
    c.blockStart(Op.if);
    c.localGet(w.A);
    c.mem(Op.i32_load, 2, N.VALUE);
    c.localSet(FOUND);
    c.br(2);
    c.end();
    // the key leaves the node's prefix: the best so far stands
    c.localGet(w.M);
    c.localGet(w.NP);
    c.op(Op.i32_lt_u);
    c.brIf(1);
    // a real node matched: the best so far
    c.localGet(w.A);
    c.mem(Op.i32_load, 2, N.FLAGS);
    c.i32Const(NODE_IM);
    c.op(Op.i32_and);
    c.op(Op.i32_eqz);
    c.blockStart(Op.if);
    c.localGet(w.A);
    c.mem(Op.i32_load, 2, N.VALUE);
    c.localSet(FOUND);
    c.end();
    // np <= m < max_prefixlen
    nextChild(c, w);
    c.end();
    c.end();
  });
  c.localGet(FOUND);
  c.op(Op.end);
  return c;
}

/**
 * update(pc, map, key, value, flags) -> 0 or -errno: the update of a prefix
 * the trie holds (a real node: trie_update_elem's replacement, in place as
 * LpmTrie.insert does it: the key's data and the value copied over the
 * node's) with BPF_ANY or BPF_EXIST, and BPF_NOEXIST's EEXIST. Everything
 * that allocates or unlinks (a new prefix, an intermediate node made real),
 * other flags, a prefix length past the data and a trie programs may not
 * write (L.PROBE) go to the JS operation, which has every rule.
 */
function updateBody(copy: number): FuncBody {
  const [KEY, VAL, FLAGS] = [2, 3, 4];
  const w = walkLocals(5, KEY, 0);
  const c = new FuncBody([[WALK_LOCALS, I32], [WALK_LOCALS64, I64]]);
  walkStart(c, w, 5, () => fallback(c, 5));
  c.localGet(FLAGS);
  c.i32Const(BPF_EXIST);
  c.op(Op.i32_gt_u);
  hdrGet(c, w.ST, L.PROBE);
  c.i32Const(PROG_UPDATE);
  c.op(Op.i32_and);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  returnIf(c, () => fallback(c, 5));
  c.blockStart(Op.block); // found: the node where the insert's walk stops
  c.blockStart(Op.block); // none
  c.blockStart(Op.loop); // walk
  nodeMatch(c, w); // (no node: out to `none`)
  // LpmTrie.insert's walk stops at a node the key leaves, its own length, or a full-length node
  c.localGet(w.NP);
  c.localGet(w.M);
  c.op(Op.i32_ne);
  c.localGet(w.NP);
  c.localGet(w.PLEN);
  c.op(Op.i32_eq);
  c.op(Op.i32_or);
  c.localGet(w.NP);
  c.localGet(w.MAX);
  c.op(Op.i32_eq);
  c.op(Op.i32_or);
  c.brIf(2);
  // np == m, np != max: np < max_prefixlen
  nextChild(c, w);
  c.end();
  c.end(); // none:
  fallback(c, 5);
  c.op(Op.return);
  c.end(); // found:
  // an exact match (np == m, so np is the key's length) of a real node; anything else allocates: JS
  c.localGet(w.NP);
  c.localGet(w.M);
  c.op(Op.i32_ne);
  c.localGet(w.A);
  c.mem(Op.i32_load, 2, N.FLAGS);
  c.i32Const(NODE_IM);
  c.op(Op.i32_and);
  c.op(Op.i32_or);
  returnIf(c, () => fallback(c, 5));
  c.localGet(FLAGS);
  c.i32Const(BPF_NOEXIST);
  c.op(Op.i32_eq);
  returnIf(c, () => c.i32Const(-ERRNO_VALUES.EEXIST));
  // the key's data bits past the prefix too (the kernel's new node carries the whole key)
  c.localGet(w.A);
  c.i32Const(N.DATA);
  c.op(Op.i32_add);
  c.localGet(KEY);
  c.i32Const(4);
  c.op(Op.i32_add);
  hdrGet(c, w.ST, L.DATA_SIZE);
  c.call(copy);
  c.localGet(w.A);
  c.mem(Op.i32_load, 2, N.VALUE);
  c.localGet(VAL);
  hdrGet(c, w.ST, L.VALUE_SIZE);
  c.call(copy);
  c.i32Const(0);
  c.op(Op.end);
  return c;
}

export type LpmOp = 'lookup' | 'update';
const ARITY: Record<LpmOp, number> = { lookup: 3, update: 5 };

/** The module of one operation (imports e.mem, an unshared memory, and e.fb; exports op). */
function lpmProbeModuleBytes(op: LpmOp): Uint8Array {
  const m = new ModuleBuilder();
  const t = m.type(Array.from({ length: ARITY[op] }, (): ValType => I32), [I32]);
  m.importFunc('e', 'fb', t);
  m.importMemory('e', 'mem', 0, undefined, false);
  const main = m.declareFunc(t);
  if (op === 'lookup') m.setBody(0, lookupBody());
  else {
    const copy = m.declareFunc(m.type([I32, I32, I32], []));
    m.setBody(0, updateBody(copy));
    m.setBody(1, copyBody());
  }
  m.exportFunc(op, main);
  return m.toBytes();
}

const modules = new Map<LpmOp, WebAssembly.Module>();

/**
 * bpf_map_lookup_elem's or bpf_map_update_elem's 32-bit form for a
 * program's (unshared) memory that does the operation on LPM tries in
 * WebAssembly where it can and hands the rest (every other map) to `fallback`.
 */
export function lpmProbe(op: LpmOp, memory: WebAssembly.Memory, fallback: ProbeFallback): ProbeFallback {
  let mod = modules.get(op);
  if (!mod) {
    mod = new WebAssembly.Module(lpmProbeModuleBytes(op) as BufferSource);
    modules.set(op, mod);
  }
  const inst = new WebAssembly.Instance(mod, { e: { mem: memory, fb: fallback } });
  return inst.exports[op] as ProbeFallback;
}
