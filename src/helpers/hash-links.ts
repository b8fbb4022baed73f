/**
 * The pieces of the WebAssembly hash probe (hash-probe.ts) that address the
 * table's state block (memory/hash-layout.ts) and change its links: a
 * removal (HashTable.removeIndex: the bucket chain, the free stack, the
 * count) and the LRU recency list and reference bits (HashTable.mark /
 * touch / victim / lruPushFront / lruUnlink), step for step as hash-table.ts does them, so both see one
 * table.
 *
 * Safety against a table the host corrupted (the state block is ordinary
 * memory): the header's constants (addresses, sizes, max_entries) are the
 * table's own, written once when it was made, and trusted like the map's
 * descriptor; every element number read from the block's changing parts
 * (chain and recency links, the LRU ends, the free-stack top) is checked
 * against max_entries before anything is written through it, and every walk
 * is cut at max_entries + 1 steps. A corrupted table may then answer wrongly
 * (as the JS table would), but the probe neither loops for ever nor writes
 * outside the table's state and elements.
 */
import { FuncBody, I32, Op } from '../vm/jit/wasm.js';
import { H, LRU_NEXT, LRU_PREV, LRU_REF, PROBE_LRU } from '../memory/hash-layout.js';
import { decrement, hdrGet, plusWords, returnIf, walkEnds } from './wasm-code.js';

/** i32.store of header word `w` of the state block whose address is in local `st` (wasm-code.ts hdrGet reads one) */
export function hdrSet(c: FuncBody, st: number, w: number, value: (c: FuncBody) => void): void {
  c.localGet(st);
  value(c);
  c.mem(Op.i32_store, 2, w * 4);
}
/** element i's address: pool + i * slot (i in local `i`) */
export function elemAddr(c: FuncBody, st: number, i: number): void {
  hdrGet(c, st, H.POOL);
  c.localGet(i);
  hdrGet(c, st, H.SLOT_SIZE);
  c.op(Op.i32_mul);
  c.op(Op.i32_add);
}
/** address of word i of the array whose address is in header word `arr` */
export function arrAddr(c: FuncBody, st: number, arr: number, i: number): void {
  hdrGet(c, st, arr);
  c.localGet(i);
  plusWords(c);
}
/** the address of h's bucket head: buckets + (h & mask) * 4 */
export function bucketAddr(c: FuncBody, st: number, h: number): void {
  hdrGet(c, st, H.BUCKETS);
  c.localGet(h);
  hdrGet(c, st, H.MASK);
  c.op(Op.i32_and);
  plusWords(c);
}

/**
 * address of word i of LRU array `which` (hash-layout.ts LRU_PREV, LRU_NEXT,
 * LRU_REF): they follow the free stack, max_entries words each (lruArray)
 */
function lruAddr(c: FuncBody, st: number, which: number, i: number): void {
  hdrGet(c, st, H.FREE);
  hdrGet(c, st, H.MAX_ENTRIES);
  c.i32Const(which + 1);
  c.op(Op.i32_mul);
  c.localGet(i);
  c.op(Op.i32_add);
  plusWords(c);
}

/** push 1 if the table keeps a recency list (PROBE has PROBE_LRU), else 0 */
export function isLru(c: FuncBody, st: number): void {
  hdrGet(c, st, H.PROBE);
  c.i32Const(Math.log2(PROBE_LRU));
  c.op(Op.i32_shr_u);
  c.i32Const(1);
  c.op(Op.i32_and);
}

/** lruUnlink(i) inline (HashTable.lruUnlink); locals p, n scratch, max = max_entries */
function lruUnlink(c: FuncBody, st: number, i: number, p: number, n: number, max: number): void {
  lruAddr(c, st, 0, i);
  c.mem(Op.i32_load, 2, 0);
  c.localSet(p);
  lruAddr(c, st, 1, i);
  c.mem(Op.i32_load, 2, 0);
  c.localSet(n);
  // p valid: next[p] = n; else the head moves on (if it was i)
  for (const [self, other, arr, end] of [[p, n, LRU_NEXT, H.LRU_HEAD], [n, p, LRU_PREV, H.LRU_TAIL]] as const) {
    c.localGet(self);
    c.localGet(max);
    c.op(Op.i32_lt_u);
    c.blockStart(Op.if);
    lruAddr(c, st, arr, self);
    c.localGet(other);
    c.mem(Op.i32_store, 2, 0);
    c.op(Op.else);
    hdrGet(c, st, end);
    c.localGet(i);
    c.op(Op.i32_eq);
    c.blockStart(Op.if);
    hdrSet(c, st, end, () => c.localGet(other));
    c.end();
    c.end();
  }
  for (const arr of [LRU_PREV, LRU_NEXT]) {
    lruAddr(c, st, arr, i);
    c.i32Const(-1);
    c.mem(Op.i32_store, 2, 0);
  }
}

/** max = max_entries; steps = max_entries + 1 (every bounded walk's budget: a corrupted chain or list may be a cycle) */
export function walkBudget(c: FuncBody, st: number, max: number, steps: number): void {
  hdrGet(c, st, H.MAX_ENTRIES);
  c.localTee(max);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.localSet(steps);
}

/** ref[i] = v (LRU_REF) */
function setRef(c: FuncBody, st: number, i: number, v: number): void {
  lruAddr(c, st, LRU_REF, i);
  c.i32Const(v);
  c.mem(Op.i32_store, 2, 0);
}

/** front(st, i): element i at the head of the recency list, unreferenced (HashTable.lruPushFront); i < max_entries */
export function frontBody(): FuncBody {
  const [ST, I, HEAD] = [0, 1, 2];
  const c = new FuncBody([[1, I32]]);
  hdrGet(c, ST, H.LRU_HEAD);
  c.localSet(HEAD);
  setRef(c, ST, I, 0);
  lruAddr(c, ST, LRU_PREV, I);
  c.i32Const(-1);
  c.mem(Op.i32_store, 2, 0);
  lruAddr(c, ST, LRU_NEXT, I);
  c.localGet(HEAD);
  c.mem(Op.i32_store, 2, 0);
  c.localGet(HEAD);
  hdrGet(c, ST, H.MAX_ENTRIES);
  c.op(Op.i32_lt_u);
  c.blockStart(Op.if);
  lruAddr(c, ST, LRU_PREV, HEAD);
  c.localGet(I);
  c.mem(Op.i32_store, 2, 0);
  c.end();
  hdrSet(c, ST, H.LRU_HEAD, () => c.localGet(I));
  hdrGet(c, ST, H.LRU_TAIL);
  c.i32Const(0);
  c.op(Op.i32_lt_s);
  c.blockStart(Op.if);
  hdrSet(c, ST, H.LRU_TAIL, () => c.localGet(I));
  c.end();
  c.op(Op.end);
  return c;
}

/** touch(st, i, front): an update made i most recently used and unreferenced, if the table is LRU (HashTable.touch); i < max_entries */
export function touchBody(front: number): FuncBody {
  const [ST, I, P, N, MAX] = [0, 1, 2, 3, 4];
  const c = new FuncBody([[3, I32]]);
  isLru(c, ST);
  c.op(Op.i32_eqz);
  returnIf(c, () => {});
  setRef(c, ST, I, 0);
  hdrGet(c, ST, H.LRU_HEAD);
  c.localGet(I);
  c.op(Op.i32_eq);
  returnIf(c, () => {});
  hdrGet(c, ST, H.MAX_ENTRIES);
  c.localSet(MAX);
  lruUnlink(c, ST, I, P, N, MAX);
  c.localGet(ST);
  c.localGet(I);
  c.call(front);
  c.op(Op.end);
  return c;
}

/**
 * victim(st) -> element number, or -1 (HashTable.victim): from the back of
 * the recency list, a referenced element loses its bit and moves to the
 * front, the first unreferenced one is returned; after max_entries + 1
 * steps the back one; a back end not below max_entries (empty or
 * corrupted) gives -1.
 */
export function victimBody(front: number): FuncBody {
  const [ST, T, STEPS, MAX, P, N] = [0, 1, 2, 3, 4, 5];
  const c = new FuncBody([[5, I32]]);
  walkBudget(c, ST, MAX, STEPS);
  c.blockStart(Op.loop);
  hdrGet(c, ST, H.LRU_TAIL);
  c.localTee(T);
  c.localGet(MAX);
  c.op(Op.i32_ge_u);
  returnIf(c, () => c.i32Const(-1));
  c.localGet(STEPS);
  c.op(Op.i32_eqz);
  lruAddr(c, ST, LRU_REF, T);
  c.mem(Op.i32_load, 2, 0);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  returnIf(c, () => c.localGet(T));
  decrement(c, STEPS);
  setRef(c, ST, T, 0);
  lruUnlink(c, ST, T, P, N, MAX);
  c.localGet(ST);
  c.localGet(T);
  c.call(front);
  c.br(0);
  c.end();
  c.i32Const(-1);
  c.op(Op.end);
  return c;
}

/** A program looked element i up: ref[i] = 1 if the table is LRU (HashTable.mark, bpf_lru_node_set_ref); i < max_entries */
export function markRef(c: FuncBody, st: number, i: number): void {
  isLru(c, st);
  c.blockStart(Op.if);
  setRef(c, st, i, 1);
  c.end();
}

/**
 * remove(st, i): HashTable.removeIndex for a preallocated table: out of its
 * bucket's chain, out of the recency list (LRU), onto the free stack, one
 * fewer; i < max_entries.
 */
export function removeBody(): FuncBody {
  const [ST, I, B, P, NX, TOP, STEPS, MAX] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new FuncBody([[6, I32]]);
  walkBudget(c, ST, MAX, STEPS);
  // the bucket of hashes[i]
  hdrGet(c, ST, H.BUCKETS);
  arrAddr(c, ST, H.HASHES, I);
  c.mem(Op.i32_load, 2, 0);
  hdrGet(c, ST, H.MASK);
  c.op(Op.i32_and);
  plusWords(c);
  c.localTee(B);
  c.mem(Op.i32_load, 2, 0);
  c.localTee(P);
  c.localGet(I);
  c.op(Op.i32_eq);
  c.blockStart(Op.if);
  c.localGet(B);
  arrAddr(c, ST, H.NEXT, I);
  c.mem(Op.i32_load, 2, 0);
  c.mem(Op.i32_store, 2, 0);
  c.op(Op.else);
  c.blockStart(Op.block);
  c.blockStart(Op.loop);
  // p < 0 (or past the elements, or the walk went round too often): not linked, nothing to do
  walkEnds(c, P, MAX, STEPS);
  c.brIf(1);
  decrement(c, STEPS);
  arrAddr(c, ST, H.NEXT, P);
  c.mem(Op.i32_load, 2, 0);
  c.localTee(NX);
  c.localGet(I);
  c.op(Op.i32_eq);
  c.blockStart(Op.if);
  arrAddr(c, ST, H.NEXT, P);
  arrAddr(c, ST, H.NEXT, I);
  c.mem(Op.i32_load, 2, 0);
  c.mem(Op.i32_store, 2, 0);
  c.br(2);
  c.end();
  c.localGet(NX);
  c.localSet(P);
  c.br(0);
  c.end();
  c.end();
  c.end();
  arrAddr(c, ST, H.NEXT, I);
  c.i32Const(-1);
  c.mem(Op.i32_store, 2, 0);
  isLru(c, ST);
  c.blockStart(Op.if);
  lruUnlink(c, ST, I, P, NX, MAX);
  c.end();
  // onto the free stack (a top at or past max_entries is a corrupted table: the element is not pushed there)
  hdrGet(c, ST, H.FREE_TOP);
  c.localTee(TOP);
  c.localGet(MAX);
  c.op(Op.i32_lt_u);
  c.blockStart(Op.if);
  arrAddr(c, ST, H.FREE, TOP);
  c.localGet(I);
  c.mem(Op.i32_store, 2, 0);
  hdrSet(c, ST, H.FREE_TOP, () => {
    c.localGet(TOP);
    c.i32Const(1);
    c.op(Op.i32_add);
  });
  c.end();
  hdrSet(c, ST, H.COUNT, () => {
    hdrGet(c, ST, H.COUNT);
    c.i32Const(1);
    c.op(Op.i32_sub);
  });
  c.op(Op.end);
  return c;
}
