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
import { FuncBody, I32, ModuleBuilder, Op } from '../vm/jit/wasm.js';
import { DESC_LPM_STATE, L, N, NODE_IM } from '../memory/lpm-layout.js';
import { decrement, returnIf } from './wasm-code.js';
import type { ProbeFallback } from './hash-probe.js';

/** lookup(pc, map, key) -> value address or 0 */
function lookupBody(): FuncBody {
  const [PC, MAP, KEY] = [0, 1, 2];
  const [ST, PLEN, MAX, POOL, SLOT, CAP, NODE, FOUND, A, NP, LIMIT, M, I, X, STEPS] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const c = new FuncBody([[15, I32]]);
  const hdr = (w: number, local: number): void => {
    c.localGet(ST);
    c.mem(Op.i32_load, 2, w * 4);
    c.localSet(local);
  };
  // st = the descriptor's trie state; none: not a trie, the next operation decides
  c.localGet(MAP);
  c.mem(Op.i32_load, 2, DESC_LPM_STATE);
  c.localTee(ST);
  c.op(Op.i32_eqz);
  returnIf(c, () => {
    c.localGet(PC);
    c.localGet(MAP);
    c.localGet(KEY);
    c.call(0);
  });
  // a prefix length past the data finds nothing (trie_lookup_elem)
  c.localGet(KEY);
  c.mem(Op.i32_load, 0, 0);
  c.localSet(PLEN);
  hdr(L.MAX_PREFIXLEN, MAX);
  c.localGet(PLEN);
  c.localGet(MAX);
  c.op(Op.i32_gt_u);
  returnIf(c, () => c.i32Const(0));
  hdr(L.POOL, POOL);
  hdr(L.SLOT, SLOT);
  hdr(L.CAP, CAP);
  hdr(L.ROOT, NODE);
  c.localGet(CAP);
  c.localSet(STEPS);
  c.i32Const(0);
  c.localSet(FOUND);
  c.blockStart(Op.block); // done
  c.blockStart(Op.loop); // walk
  // no node (-1) or not one of the pool's; a walk longer than the pool (a cycle)
  c.localGet(NODE);
  c.localGet(CAP);
  c.op(Op.i32_ge_u);
  c.localGet(STEPS);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  c.brIf(1);
  decrement(c, STEPS);
  c.localGet(POOL);
  c.localGet(NODE);
  c.localGet(SLOT);
  c.op(Op.i32_mul);
  c.op(Op.i32_add);
  c.localTee(A);
  c.mem(Op.i32_load, 2, N.PREFIXLEN);
  c.localTee(NP);
  // limit = min(node prefixlen, key prefixlen) (unsigned: a corrupted node's length cannot lift it)
  c.localGet(PLEN);
  c.localGet(NP);
  c.localGet(PLEN);
  c.op(Op.i32_lt_u);
  c.op(Op.select);
  c.localSet(LIMIT);
  // m = leading bits equal, a byte at a time (i = m / 8 while bytes are equal)
  c.i32Const(0);
  c.localSet(M);
  c.i32Const(0);
  c.localSet(I);
  c.blockStart(Op.block); // cmp
  c.blockStart(Op.loop);
  c.localGet(M);
  c.localGet(LIMIT);
  c.op(Op.i32_ge_u);
  c.brIf(1);
  c.localGet(A);
  c.localGet(I);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, N.DATA);
  c.localGet(KEY);
  c.localGet(I);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, 4);
  c.op(Op.i32_xor);
  c.localTee(X);
  c.blockStart(Op.if);
  // the first differing bit: clz over the byte (in the low 8 bits of 32)
  c.localGet(M);
  c.localGet(X);
  c.op(Op.i32_clz);
  c.op(Op.i32_add);
  c.i32Const(24);
  c.op(Op.i32_sub);
  c.localSet(M);
  c.br(2);
  c.end();
  c.localGet(M);
  c.i32Const(8);
  c.op(Op.i32_add);
  c.localSet(M);
  c.localGet(I);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.localSet(I);
  c.br(0);
  c.end();
  c.end();
  // m = min(m, limit)
  c.localGet(M);
  c.localGet(LIMIT);
  c.localGet(M);
  c.localGet(LIMIT);
  c.op(Op.i32_lt_u);
  c.op(Op.select);
  c.localTee(M);
  // a match of the whole data: this node (both prefixes are full length)
  c.localGet(MAX);
  c.op(Op.i32_eq);
  c.blockStart(Op.if);
  c.localGet(A);
  c.mem(Op.i32_load, 2, N.VALUE);
  c.localSet(FOUND);
  c.br(2);
  c.end();
  // the key leaves the node's prefix: the best so far stands
  c.localGet(M);
  c.localGet(NP);
  c.op(Op.i32_lt_u);
  c.brIf(1);
  // a real node matched: the best so far
  c.localGet(A);
  c.mem(Op.i32_load, 2, N.FLAGS);
  c.i32Const(NODE_IM);
  c.op(Op.i32_and);
  c.op(Op.i32_eqz);
  c.blockStart(Op.if);
  c.localGet(A);
  c.mem(Op.i32_load, 2, N.VALUE);
  c.localSet(FOUND);
  c.end();
  // node = child[bit np of the key's data] (np <= m < max_prefixlen here)
  c.localGet(A);
  c.localGet(KEY);
  c.localGet(NP);
  c.i32Const(3);
  c.op(Op.i32_shr_u);
  c.op(Op.i32_add);
  c.mem(Op.i32_load8_u, 0, 4);
  c.i32Const(7);
  c.localGet(NP);
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
  c.localSet(NODE);
  c.br(0);
  c.end();
  c.end();
  c.localGet(FOUND);
  c.op(Op.end);
  return c;
}

/** The module (imports e.mem, an unshared memory, and e.fb; exports lookup). */
export function lpmProbeModuleBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const t = m.type([I32, I32, I32], [I32]);
  m.importFunc('e', 'fb', t);
  m.importMemory('e', 'mem', 0, undefined, false);
  const main = m.declareFunc(t);
  m.setBody(0, lookupBody());
  m.exportFunc('lookup', main);
  return m.toBytes();
}

let module: WebAssembly.Module | undefined;

/**
 * bpf_map_lookup_elem's 32-bit form for a program's (unshared) memory that
 * walks LPM tries in WebAssembly and hands every other map to `fallback`.
 */
export function lpmProbe(memory: WebAssembly.Memory, fallback: ProbeFallback): ProbeFallback {
  module ??= new WebAssembly.Module(lpmProbeModuleBytes() as BufferSource);
  const inst = new WebAssembly.Instance(module, { e: { mem: memory, fb: fallback } });
  return inst.exports['lookup'] as ProbeFallback;
}
