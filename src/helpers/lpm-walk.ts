/**
 * The steps of the LPM trie walk the WebAssembly lookup and update share
 * (lpm-probe.ts says what they do and why they are safe): the walk's locals
 * and start, one node's longest_prefix_match (kernel/bpf/lpm_trie.c), the
 * key's leading bits kept in a local, and the step to the child the key's
 * next bit picks (extract_bit).
 */
import { FuncBody, I32, Op } from '../vm/jit/wasm.js';
import { DESC_LPM_STATE, L, N } from '../memory/lpm-layout.js';
import { at, callWithParams, chunks, decrement, hdrGet, returnIf, walkEnds } from './wasm-code.js';

/** The locals both operations use (after their parameters). */
export interface Walk {
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
  /** the key's data words 0..3 (little-endian loads), kept by a walk specialised for its data size */
  KW: readonly number[];
  /** (i64) the key's first KB bits in network order, from the top bit down */
  W: number;
  /** (i64) the node's two children, child[0] in the low half */
  CH: number;
}
/** the i32 locals; W and CH, i64s, follow them and the caller's own i32 locals (`more`) */
export const WALK_LOCALS = 22;
/** the i64 locals */
export const WALK_LOCALS64 = 2;
export function walkLocals(first: number, key: number, more: number): Walk {
  const names = ['ST', 'PLEN', 'MAX', 'POOL', 'SLOT', 'CAP', 'NODE', 'STEPS', 'A', 'NP', 'LIMIT', 'M', 'I', 'X', 'K', 'DS', 'KB', 'SH'] as const;
  const w = { KEY: key, W: first + WALK_LOCALS + more, CH: first + WALK_LOCALS + more + 1 } as Walk;
  names.forEach((n, i) => (w[n] = first + i));
  w.KW = [0, 1, 2, 3].map((k) => first + names.length + k);
  return w;
}

/** Push the call's parameters and return what the next operation returns. */
export function fallback(c: FuncBody, nParams: number): void {
  callWithParams(c, 0, nParams);
}

/**
 * The walk's start: st from the descriptor (none: not a trie, the next
 * operation decides), the key's prefix length (past the data: `tooLong`
 * decides), the header words in locals, node = the root.
 */
export function walkStart(c: FuncBody, w: Walk, nParams: number, tooLong: () => void): void {
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

/** The data sizes a walk is specialised for (IPv4's and IPv6's keys): see walkSpecialised. */
const SPECIALISED_SIZES = [4, 16] as const;
export type SpecialisedSize = (typeof SPECIALISED_SIZES)[number];

/**
 * m += the equal leading bits of x = node ^ key (pushed by `xor`); out of the
 * compare (the block `out` levels up) once x differs or m reaches the limit.
 */
function stepAt(c: FuncBody, w: Walk, xor: () => void, bits: () => void, out: number): void {
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
  c.brIf(out);
}

/**
 * Run `walk(ds)` specialised for the trie's data size when it is one of
 * SPECIALISED_SIZES (its key words first loaded into locals), else the
 * generic `walk()`. A specialised walk compares a node's data in straight
 * code with the key's words in locals: no loop over the data per node, no
 * load of the key's, fewer locals live across the walk's back edge.
 */
export function walkSpecialised(c: FuncBody, w: Walk, walk: (ds?: SpecialisedSize) => void): void {
  const variant = (k: number): void => {
    const ds = SPECIALISED_SIZES[k];
    if (ds === undefined) return walk();
    c.localGet(w.DS);
    c.i32Const(ds);
    c.op(Op.i32_eq);
    c.blockStart(Op.if);
    for (let j = 0; j < ds / 4; j++) {
      c.localGet(w.KEY);
      c.mem(Op.i32_load, 0, 4 + 4 * j);
      c.localSet(w.KW[j]!);
    }
    walk(ds);
    c.op(Op.else);
    variant(k + 1);
    c.end();
  };
  variant(0);
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
export function nodeMatch(c: FuncBody, w: Walk, ds?: SpecialisedSize): void {
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
  // (a chunk's body is two levels inside the compare)
  const step = (xor: () => void, bits: () => void): void => stepAt(c, w, xor, bits, 2);
  const xorAt = (load: number): void => {
    at(c, w.A, w.I);
    c.mem(load, 0, N.DATA);
    at(c, w.KEY, w.I);
    c.mem(load, 0, 4);
    c.op(Op.i32_xor);
  };
  const wordBits = (): void => {
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
  };
  if (ds !== undefined) {
    // data_size known (walkSpecialised): its words one after another, the key's from locals
    for (let j = 0; j < ds / 4; j++) {
      const xorWord = (): void => {
        c.localGet(w.A);
        c.mem(Op.i32_load, 0, N.DATA + 4 * j);
        c.localGet(w.KW[j]!);
        c.op(Op.i32_xor);
      };
      stepAt(c, w, xorWord, wordBits, 0);
    }
  } else {
    chunks(c, w.I, w.DS, 4, () => step(() => xorAt(Op.i32_load), wordBits));
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
  }
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
 * dependent loads); a later one from its byte of the key. Both children are
 * read as one i64 (child[0] its low half: little-endian) and the bit selects
 * one: that load needs only the node's address, so it runs beside the
 * prefix length's load, and the chain from a node to the next is one load
 * (its prefix length, the bit) and a select, not a second load after the bit.
 */
export function nextChild(c: FuncBody, w: Walk): void {
  c.localGet(w.A);
  c.mem(Op.i64_load, 2, N.CHILD);
  c.localTee(w.CH);
  c.i64Const32(32);
  c.op(Op.i64_shr_u);
  c.op(Op.i32_wrap_i64);
  c.localGet(w.CH);
  c.op(Op.i32_wrap_i64);
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
  c.op(Op.select);
  c.localSet(w.NODE);
  c.br(0);
}
