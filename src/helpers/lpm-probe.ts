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
 * was given: the hash probe links this in as its lookup's fallback
 * (helpers/maps.ts), and this one falls back to the JS helper.
 *
 * Safety: linked only into the JIT's plain variant (verified programs: the
 * map pointer is a map's descriptor, the key has key_size readable bytes)
 * and only for unshared memories (LPM tries are not shareable). A key
 * prefix length above the trie's maximum finds nothing (as the kernel's
 * lookup), so every key byte read is below data_size; a node number is
 * checked below the pool's node count before it is used, the walk is cut
 * after that many steps, and the bytes compared in a node are at most
 * min(its prefix length, the key's) / 8 rounded up, within the node's
 * data_size bytes, whatever the node's stored prefix length says. The bit
 * that picks the child is at the node's prefix length, which the walk only
 * reaches when it is below the match length, itself at most the key's
 * prefix length: inside the key.
 */
import { FuncBody, I32, ModuleBuilder, Op, type ValType } from '../vm/jit/wasm.js';
import { ERRNO_VALUES } from '../errors.js';
import { BPF_EXIST, BPF_NOEXIST } from '../uapi/update-flags.js';
import { DESC_LPM_STATE, L, N, NODE_IM, PROG_UPDATE } from '../memory/lpm-layout.js';
import { copyBody, decrement, returnIf } from './wasm-code.js';
import type { ProbeFallback } from './hash-probe.js';

/** The locals both operations use (after their parameters). */
interface Walk {
  KEY: number;
  ST: number;
  PLEN: number;
  MAX: number;
  POOL: number;
  SLOT: number;
  CAP: number;
  NODE: number;
  STEPS: number;
  A: number;
  NP: number;
  LIMIT: number;
  M: number;
  I: number;
  X: number;
}
const WALK_LOCALS = 14;
function walkLocals(first: number, key: number): Walk {
  const names = ['ST', 'PLEN', 'MAX', 'POOL', 'SLOT', 'CAP', 'NODE', 'STEPS', 'A', 'NP', 'LIMIT', 'M', 'I', 'X'] as const;
  const w = { KEY: key } as Walk;
  names.forEach((n, i) => (w[n] = first + i));
  return w;
}

/** Push the call's parameters and return what the next operation returns. */
function fallback(c: FuncBody, nParams: number): void {
  for (let p = 0; p < nParams; p++) c.localGet(p);
  c.call(0);
}

/**
 * The walk's start: st from the descriptor (none: not a trie, the next
 * operation decides), the key's prefix length (past the data: `tooLong`
 * decides), the header words in locals, node = the root.
 */
function walkStart(c: FuncBody, w: Walk, nParams: number, tooLong: () => void): void {
  const hdr = (word: number, local: number): void => {
    c.localGet(w.ST);
    c.mem(Op.i32_load, 2, word * 4);
    c.localSet(local);
  };
  c.localGet(1); // the map pointer
  c.mem(Op.i32_load, 2, DESC_LPM_STATE);
  c.localTee(w.ST);
  c.op(Op.i32_eqz);
  returnIf(c, () => fallback(c, nParams));
  c.localGet(w.KEY);
  c.mem(Op.i32_load, 0, 0);
  c.localSet(w.PLEN);
  hdr(L.MAX_PREFIXLEN, w.MAX);
  c.localGet(w.PLEN);
  c.localGet(w.MAX);
  c.op(Op.i32_gt_u);
  returnIf(c, tooLong);
  hdr(L.POOL, w.POOL);
  hdr(L.SLOT, w.SLOT);
  hdr(L.CAP, w.CAP);
  hdr(L.ROOT, w.NODE);
  c.localGet(w.CAP);
  c.localSet(w.STEPS);
}

/** push min(x, y), unsigned */
function minU(c: FuncBody, x: number, y: number): void {
  c.localGet(x);
  c.localGet(y);
  c.localGet(x);
  c.localGet(y);
  c.op(Op.i32_lt_u);
  c.op(Op.select);
}

/**
 * Inside the walk's loop (its block `done` at depth 1): leave when the node
 * is none (-1) or not one of the pool's, or the walk is longer than the
 * pool (a cycle); else a = the node's address, np its prefix length and
 * m = longest_prefix_match(node, key): the leading bits equal, a byte at a
 * time, at most min(np, the key's prefix length) (unsigned: a corrupted
 * node's length cannot lift it past the key's).
 */
function nodeMatch(c: FuncBody, w: Walk): void {
  c.localGet(w.NODE);
  c.localGet(w.CAP);
  c.op(Op.i32_ge_u);
  c.localGet(w.STEPS);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  c.brIf(1);
  decrement(c, w.STEPS);
  c.localGet(w.POOL);
  c.localGet(w.NODE);
  c.localGet(w.SLOT);
  c.op(Op.i32_mul);
  c.op(Op.i32_add);
  c.localTee(w.A);
  c.mem(Op.i32_load, 2, N.PREFIXLEN);
  c.localSet(w.NP);
  minU(c, w.NP, w.PLEN);
  c.localSet(w.LIMIT);
  c.i32Const(0);
  c.localSet(w.M);
  c.i32Const(0);
  c.localSet(w.I);
  c.blockStart(Op.block); // cmp
  c.blockStart(Op.loop);
  c.localGet(w.M);
  c.localGet(w.LIMIT);
  c.op(Op.i32_ge_u);
  c.brIf(1);
  c.localGet(w.A);
  c.localGet(w.I);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, N.DATA);
  c.localGet(w.KEY);
  c.localGet(w.I);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, 4);
  c.op(Op.i32_xor);
  c.localTee(w.X);
  c.blockStart(Op.if);
  // the first differing bit: clz over the byte (in the low 8 bits of 32)
  c.localGet(w.M);
  c.localGet(w.X);
  c.op(Op.i32_clz);
  c.op(Op.i32_add);
  c.i32Const(24);
  c.op(Op.i32_sub);
  c.localSet(w.M);
  c.br(2);
  c.end();
  c.localGet(w.M);
  c.i32Const(8);
  c.op(Op.i32_add);
  c.localSet(w.M);
  c.localGet(w.I);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.localSet(w.I);
  c.br(0);
  c.end();
  c.end();
  minU(c, w.M, w.LIMIT);
  c.localSet(w.M);
}

/** node = child[bit np of the key's data], then on round the loop (np < max_prefixlen here: the callers' proofs). */
function nextChild(c: FuncBody, w: Walk): void {
  c.localGet(w.A);
  c.localGet(w.KEY);
  c.localGet(w.NP);
  c.i32Const(3);
  c.op(Op.i32_shr_u);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, 4);
  c.i32Const(7);
  c.localGet(w.NP);
  c.i32Const(7);
  c.op(Op.i32_and);
  c.op(Op.i32_sub);
  c.op(Op.i32_shr_u);
  c.i32Const(1);
  c.op(Op.i32_and);
  c.i32Const(2);
  c.op(Op.i32_shl);
  c.op(Op.i32_add);
  c.mem(Op.i32_load, 2, N.CHILD);
  c.localSet(w.NODE);
  c.br(0);
}

/** lookup(pc, map, key) -> value address or 0 (trie_lookup_elem, LpmTrie.longest) */
function lookupBody(): FuncBody {
  const w = walkLocals(3, 2);
  const FOUND = 3 + WALK_LOCALS;
  const c = new FuncBody([[WALK_LOCALS + 1, I32]]);
  // a prefix length past the data finds nothing
  walkStart(c, w, 3, () => c.i32Const(0));
  c.i32Const(0);
  c.localSet(FOUND);
  c.blockStart(Op.block); // done
  c.blockStart(Op.loop); // walk
  nodeMatch(c, w);
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
  const w = walkLocals(5, KEY);
  const c = new FuncBody([[WALK_LOCALS, I32]]);
  walkStart(c, w, 5, () => fallback(c, 5));
  c.localGet(FLAGS);
  c.i32Const(BPF_EXIST);
  c.op(Op.i32_gt_u);
  c.localGet(w.ST);
  c.mem(Op.i32_load, 2, L.PROBE * 4);
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
  c.localGet(w.ST);
  c.mem(Op.i32_load, 2, L.DATA_SIZE * 4);
  c.call(copy);
  c.localGet(w.A);
  c.mem(Op.i32_load, 2, N.VALUE);
  c.localGet(VAL);
  c.localGet(w.ST);
  c.mem(Op.i32_load, 2, L.VALUE_SIZE * 4);
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
