/**
 * Small pieces of hand-assembled WebAssembly the helpers' wasm forms share
 * (hash-probe.ts, hash-links.ts, lpm-probe.ts, lpm-walk.ts, ringbuf-wasm.ts,
 * ringbuf-reserve-wasm.ts): the byte-walk loop, an early return, a counter
 * step, a bounded walk's end test, address pushes, the call of the operation
 * a probe falls back to and a copy function.
 */
import { FuncBody, I32, Op } from '../vm/jit/wasm.js';

/**
 * for (; j + size <= n; j += size) body(): the loop every byte walk here uses
 * (locals j and n). Inside `body`, depth 2 is the block around the loop's caller.
 */
export function chunks(c: FuncBody, j: number, n: number, size: number, body: () => void): void {
  c.blockStart(Op.block);
  c.blockStart(Op.loop);
  c.localGet(j);
  c.i32Const(size);
  c.op(Op.i32_add);
  c.localGet(n);
  c.op(Op.i32_gt_u);
  c.brIf(1);
  body();
  c.localGet(j);
  c.i32Const(size);
  c.op(Op.i32_add);
  c.localSet(j);
  c.br(0);
  c.end();
  c.end();
}
/** With an i32 condition on the stack: if it is nonzero, push what `result` pushes (nothing for a void function) and return. */
export function returnIf(c: FuncBody, result: () => void): void {
  c.blockStart(Op.if);
  result();
  c.op(Op.return);
  c.end();
}
/** local -= 1 */
export function decrement(c: FuncBody, local: number): void {
  c.localGet(local);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.localSet(local);
}
/**
 * push (i >=u max) | (steps == 0): where every walk of a chain of element
 * numbers ends, at a number past the array (-1, none, included) or when its
 * step budget (the most elements there are: a corrupted, cyclic chain) is spent.
 */
export function walkEnds(c: FuncBody, i: number, max: number, steps: number): void {
  c.localGet(i);
  c.localGet(max);
  c.op(Op.i32_ge_u);
  c.localGet(steps);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
}
/** With an address and an index i on the stack: push address + i * 4 (word i of an i32 array). */
export function plusWords(c: FuncBody): void {
  c.i32Const(2);
  c.op(Op.i32_shl);
  c.op(Op.i32_add);
}
/** push the function's first n parameters and call `fn` with them (a probe's fallback: the operation it was given, same signature) */
export function callWithParams(c: FuncBody, fn: number, n: number): void {
  for (let p = 0; p < n; p++) c.localGet(p);
  c.call(fn);
}
/** push i32 header word `w` of the state block whose address is in local `st` (the hash table's, the LPM trie's) */
export function hdrGet(c: FuncBody, st: number, w: number): void {
  c.localGet(st);
  c.mem(Op.i32_load, 2, w * 4);
}
/** push base + j */
export function at(c: FuncBody, base: number, j: number): void {
  c.localGet(base);
  c.localGet(j);
  c.op(Op.i32_add);
}
/** copy(dst, src, n): n bytes, 8 at a time then the tail (dst is never above an overlapping src). */
export function copyBody(): FuncBody {
  const [DST, SRC, N, J] = [0, 1, 2, 3];
  const c = new FuncBody([[1, I32]]);
  for (const [size, load, store] of [[8, Op.i64_load, Op.i64_store], [1, Op.i32_load8_u, Op.i32_store8]] as const) {
    chunks(c, J, N, size, () => {
      at(c, DST, J);
      at(c, SRC, J);
      c.mem(load, 0, 0);
      c.mem(store, 0, 0);
    });
  }
  c.op(Op.end);
  return c;
}

