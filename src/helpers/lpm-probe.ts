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
 * child, as in the kernel; this code keeps the chain as short: the key's
 * first 8 bytes in a local (no load for a bit below 64), the node's address by
 * a shift when the slot size is a power of two (no multiply), and the
 * prefix compared a word at a time.
 */
import { FuncBody, I32, I64, ModuleBuilder, Op, type ValType } from '../vm/jit/wasm.js';
import { ERRNO_VALUES } from '../errors.js';
import { BPF_EXIST, BPF_NOEXIST } from '../uapi/update-flags.js';
import { DESC_LPM_STATE, L, N, NODE_IM, PROG_UPDATE } from '../memory/lpm-layout.js';
import { at, callWithParams, chunks, copyBody, decrement, hdrGet, plusWords, returnIf, walkEnds } from './wasm-code.js';
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
  K: number;
  DS: number;
  SH: number;
  /** how many of the key's leading bits W holds: 64, 32 or 0 (data_size 8 or more, 4 to 7, less) */
  KB: number;
  /** (i64) the key's first KB bits in network order, from the top bit down */
  W: number;
}
/** the i32 locals; W, an i64, follows them and the caller's own i32 locals (`more`) */
const WALK_LOCALS = 18;
function walkLocals(first: number, key: number, more: number): Walk {
  const names = ['ST', 'PLEN', 'MAX', 'POOL', 'SLOT', 'CAP', 'NODE', 'STEPS', 'A', 'NP', 'LIMIT', 'M', 'I', 'X', 'K', 'DS', 'KB', 'SH'] as const;
  const w = { KEY: key, W: first + WALK_LOCALS + more } as Walk;
  names.forEach((n, i) => (w[n] = first + i));
  return w;
}

/** Push the call's parameters and return what the next operation returns. */
function fallback(c: FuncBody, nParams: number): void {
  callWithParams(c, 0, nParams);
}

/**
 * The walk's start: st from the descriptor (none: not a trie, the next
 * operation decides), the key's prefix length (past the data: `tooLong`
 * decides), the header words in locals, node = the root.
 */
function walkStart(c: FuncBody, w: Walk, nParams: number, tooLong: () => void): void {
  const hdr = (word: number, local: number): void => {
    hdrGet(c, w.ST, word);
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
  c.localGet(w.SLOT);
  c.localGet(w.SLOT);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.op(Op.i32_and);
  c.op(Op.i32_eqz);
  c.blockStart(Op.if);
  c.localGet(w.SLOT);
  c.op(Op.i32_ctz);
  c.localSet(w.SH);
  c.end();
  hdr(L.ROOT, w.NODE);
  hdr(L.DATA_SIZE, w.DS);
  keyBits(c, w);
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
 * m = longest_prefix_match(node, key): the leading bits equal, at most
 * min(np, the key's prefix length) (unsigned: a corrupted node's length
 * cannot lift it past the key's). As the kernel's longest_prefix_match, a
 * word at a time (4 bytes; then single bytes for a data size not a multiple
 * of 4), stopping at the first word that differs or reaches the limit.
 * A word is loaded little-endian, so its first byte in network order is its
 * low byte: the first differing byte starts at bit k = ctz(x) & 24 of
 * x = node ^ key, and the bits equal before it are k plus the leading zeros
 * of that byte (clz(x >> k << 24)); x == 0 gives 0 + 32, the whole word.
 * A word is read only while it lies within data_size bytes (the key's);
 * before the byte at i the match is 8 * i < limit <= max_prefixlen, so
 * every byte read is inside the key's data.
 */
function nodeMatch(c: FuncBody, w: Walk): void {
  walkEnds(c, w.NODE, w.CAP, w.STEPS);
  c.brIf(1);
  decrement(c, w.STEPS);
  c.localGet(w.POOL);
  c.localGet(w.SH);
  c.u8(Op.if);
  c.u8(I32);
  c.localGet(w.NODE);
  c.localGet(w.SH);
  c.op(Op.i32_shl);
  c.op(Op.else);
  c.localGet(w.NODE);
  c.localGet(w.SLOT);
  c.op(Op.i32_mul);
  c.op(Op.end);
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
  // m += the equal leading bits of x = node ^ key (pushed by `xor`); out of cmp once x differs or m reaches the limit
  const step = (xor: () => void, bits: () => void): void => {
    xor();
    c.localSet(w.X);
    c.localGet(w.M);
    bits();
    c.op(Op.i32_add);
    c.localTee(w.M);
    c.localGet(w.LIMIT);
    c.op(Op.i32_ge_u);
    c.localGet(w.X);
    c.op(Op.i32_or);
    c.brIf(2);
  };
  const xorAt = (load: number): void => {
    at(c, w.A, w.I);
    c.mem(load, 0, N.DATA);
    at(c, w.KEY, w.I);
    c.mem(load, 0, 4);
    c.op(Op.i32_xor);
  };
  chunks(c, w.I, w.DS, 4, () =>
    step(
      () => xorAt(Op.i32_load),
      () => {
        // k + clz(x >> k << 24), k = ctz(x) & 24
        c.localGet(w.X);
        c.op(Op.i32_ctz);
        c.i32Const(24);
        c.op(Op.i32_and);
        c.localTee(w.K);
        c.localGet(w.X);
        c.localGet(w.K);
        c.op(Op.i32_shr_u);
        c.i32Const(24);
        c.op(Op.i32_shl);
        c.op(Op.i32_clz);
        c.op(Op.i32_add);
      },
    ),
  );
  chunks(c, w.I, w.DS, 1, () =>
    step(
      () => xorAt(Op.i32_load8_u),
      () => {
        // clz(x << 24 | 1 << 23): 8 when x == 0
        c.localGet(w.X);
        c.i32Const(24);
        c.op(Op.i32_shl);
        c.i32Const(1 << 23);
        c.op(Op.i32_or);
        c.op(Op.i32_clz);
      },
    ),
  );
  c.end();
  minU(c, w.M, w.LIMIT);
  c.localSet(w.M);
}

/**
 * W = the key's first 8 data bytes big-endian (KB = 64) when it has 8, else
 * its first 4 in W's top half (KB = 32) when it has 4, else nothing (KB = 0):
 * a byte swap, (x >> 8 & m8) | (x & m8) << 8 with m8 = 0x00ff.., the same
 * for 16-bit halves, then the 32-bit halves swapped by a rotation. Only
 * bytes inside the key's data are read.
 */
function keyBits(c: FuncBody, w: Walk): void {
  const swap = (shift: number, mask: bigint): void => {
    c.localGet(w.W);
    c.i64Const32(shift);
    c.op(Op.i64_shr_u);
    c.i64Const(mask);
    c.op(Op.i64_and);
    c.localGet(w.W);
    c.i64Const(mask);
    c.op(Op.i64_and);
    c.i64Const32(shift);
    c.op(Op.i64_shl);
    c.op(Op.i64_or);
    c.localSet(w.W);
  };
  c.localGet(w.DS);
  c.i32Const(4);
  c.op(Op.i32_ge_u);
  c.blockStart(Op.if);
  c.localGet(w.DS);
  c.i32Const(8);
  c.op(Op.i32_ge_u);
  c.blockStart(Op.if);
  c.localGet(w.KEY);
  c.mem(Op.i64_load, 0, 4);
  c.localSet(w.W);
  c.i32Const(64);
  c.localSet(w.KB);
  c.op(Op.else);
  // the 4 bytes in W's low half: after the swap they are its top half
  c.localGet(w.KEY);
  c.mem(Op.i64_load32_u, 0, 4);
  c.localSet(w.W);
  c.i32Const(32);
  c.localSet(w.KB);
  c.end();
  swap(8, 0x00ff00ff00ff00ffn);
  swap(16, 0x0000ffff0000ffffn);
  c.localGet(w.W);
  c.i64Const32(32);
  c.op(Op.i64_rotl);
  c.localSet(w.W);
  c.end();
}

/**
 * node = child[bit np of the key's data] (the kernel's extract_bit), then on
 * round the loop (np < max_prefixlen here: the callers' proofs). A bit
 * among the key's first KB comes from W (no load on the walk's chain of
 * dependent loads); a later one from its byte of the key.
 */
function nextChild(c: FuncBody, w: Walk): void {
  c.localGet(w.A);
  c.localGet(w.NP);
  c.localGet(w.KB);
  c.op(Op.i32_lt_u);
  c.u8(Op.if);
  c.u8(I32);
  c.localGet(w.W);
  c.localGet(w.NP);
  c.op(Op.i64_extend_i32_u);
  c.op(Op.i64_shl);
  c.i64Const32(63);
  c.op(Op.i64_shr_u);
  c.op(Op.i32_wrap_i64);
  c.op(Op.else);
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
  c.op(Op.end);
  plusWords(c);
  c.mem(Op.i32_load, 2, N.CHILD);
  c.localSet(w.NODE);
  c.br(0);
}

/** lookup(pc, map, key) -> value address or 0 (trie_lookup_elem, LpmTrie.longest) */
function lookupBody(): FuncBody {
  const w = walkLocals(3, 2, 1);
  const FOUND = 3 + WALK_LOCALS;
  const c = new FuncBody([[WALK_LOCALS + 1, I32], [1, I64]]);
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
  const w = walkLocals(5, KEY, 0);
  const c = new FuncBody([[WALK_LOCALS, I32], [1, I64]]);
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
