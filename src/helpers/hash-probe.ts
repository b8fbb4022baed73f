/**
 * bpf_map_lookup_elem, bpf_map_update_elem and bpf_map_delete_elem on hash
 * maps in WebAssembly: a small hand-assembled module over the runtime's
 * memory that walks the table whose state hash-layout.ts lays out (the
 * state HashTable keeps), so a JIT-compiled program's map operations are a
 * wasm-to-wasm call instead of a call into JS (kernel/bpf/hashtab.c's
 * htab_map_lookup_elem, htab_map_update_elem, htab_map_delete_elem, with
 * tsbpf's table).
 *
 * Each operation is one exported function with the signature of the
 * helper's 32-bit import (the JIT's h.<id>_32: pc, then the helper's
 * arguments as i32): it reads the table's address from the map descriptor
 * (DESC_TABLE_STATE) and does the operation itself when the table's PROBE
 * bits allow it (a per-CPU table's lookups and updates when the JIT left
 * the CPU in the header: perCpuOffset); otherwise (another map type, a
 * NO_PREALLOC table, a shared table's change, flags other than
 * BPF_ANY/NOEXIST/EXIST, a writer inside a shared table) it calls the JS
 * operation it was given, which keeps every other rule in one place.
 *
 * Safety: the probe is only linked into the JIT's plain variant, which runs
 * verified programs, whose map pointers are the maps' own descriptors (the
 * JS path's map table check is the verifier's proof here). Every address it
 * computes comes from the state block and an element number below
 * max_entries (a chain walk is cut at max_entries steps), so it reads and
 * writes only the map's own state and elements, and the key and value
 * arguments the verifier checked.
 *
 * The same algorithm as hash-table.ts, step for step (same hash, same free
 * stack order, new elements at the head of their bucket), so the host API,
 * the interpreter and the JIT see one table.
 */
import { Atomic, FuncBody, I32, ModuleBuilder, Op, type ValType } from '../vm/jit/wasm.js';
import { ERRNO_VALUES } from '../errors.js';
import { DESC_TABLE_STATE, H, PROBE_LOOKUP, PROBE_PERCPU, PROBE_UPDATE } from '../memory/hash-layout.js';
import { BPF_EXIST, BPF_NOEXIST } from '../uapi/update-flags.js';
import { at, callWithParams, chunks, copyBody, decrement, hdrGet, plusWords, returnIf, walkEnds } from './wasm-code.js';
import { arrAddr, bucketAddr, elemAddr, frontBody, hdrSet, isLru, markRef, removeBody, touchBody, victimBody, walkBudget } from './hash-links.js';
import { fmix32, mixBlock, mixK } from '../vm/jit/murmur.js';


export type ProbeOp = 'lookup' | 'update' | 'delete';
/** the JS operation a probe falls back to: the helper's 32-bit form (pc, args...) -> result */
export type ProbeFallback = (pc: number, ...args: number[]) => number;

/** hash(st, key) -> i32: hash-layout.ts's hashBytes over the key in memory. */
function hashBody(): FuncBody {
  const [ST, KEY, LEN, HV, I, K, S] = [0, 1, 2, 3, 4, 5, 6];
  const c = new FuncBody([[5, I32]]);
  hdrGet(c, ST, H.KEY_SIZE);
  c.localTee(LEN);
  hdrGet(c, ST, H.SEED);
  c.op(Op.i32_xor);
  c.localSet(HV);
  // whole 4-byte words, little-endian
  chunks(c, I, LEN, 4, () => {
    at(c, KEY, I);
    c.mem(Op.i32_load, 0, 0);
    mixBlock(c, HV);
  });
  // the tail bytes, k |= byte << s
  chunks(c, I, LEN, 1, () => {
    at(c, KEY, I);
    c.mem(Op.i32_load8_u, 0, 0);
    c.localGet(S);
    c.op(Op.i32_shl);
    c.localGet(K);
    c.op(Op.i32_or);
    c.localSet(K);
    c.localGet(S);
    c.i32Const(8);
    c.op(Op.i32_add);
    c.localSet(S);
  });
  c.localGet(K);
  c.localGet(LEN);
  c.i32Const(3);
  c.op(Op.i32_and);
  c.op(Op.i32_or);
  c.blockStart(Op.if);
  c.localGet(K);
  mixK(c);
  c.localGet(HV);
  c.op(Op.i32_xor);
  c.localSet(HV);
  c.end();
  fmix32(c, HV);
  c.localGet(HV);
  c.op(Op.end);
  return c;
}

/**
 * find(st, key, h) -> element number or -1: the bucket's chain, hashes
 * first, then the key bytes 8 at a time. Stops at an element number not
 * below max_entries (the chain's -1 end) or after max_entries + 1 steps.
 */
function findBody(): FuncBody {
  const [ST, KEY, HV, MAX, N, I, STEPS, A, J, POOL, SLOT, HASHES, NEXT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const c = new FuncBody([[10, I32]]);
  // The header words the walk needs, in locals once (V8 does not keep memory loads across iterations).
  for (const [local, w] of [[POOL, H.POOL], [SLOT, H.SLOT_SIZE], [HASHES, H.HASHES], [NEXT, H.NEXT]] as const) {
    hdrGet(c, ST, w);
    c.localSet(local);
  }
  walkBudget(c, ST, MAX, STEPS);
  hdrGet(c, ST, H.KEY_SIZE);
  c.localSet(N);
  // i = buckets[h & mask]
  bucketAddr(c, ST, HV);
  c.mem(Op.i32_load, 2, 0);
  c.localSet(I);
  c.blockStart(Op.loop); // walk
  c.blockStart(Op.block); // next
  walkEnds(c, I, MAX, STEPS);
  returnIf(c, () => c.i32Const(-1));
  decrement(c, STEPS);
  c.localGet(HASHES);
  c.localGet(I);
  plusWords(c);
  c.mem(Op.i32_load, 2, 0);
  c.localGet(HV);
  c.op(Op.i32_ne);
  c.brIf(0);
  c.localGet(POOL);
  c.localGet(I);
  c.localGet(SLOT);
  c.op(Op.i32_mul);
  c.op(Op.i32_add);
  c.localSet(A);
  c.i32Const(0);
  c.localSet(J);
  // 8 bytes at a time, then the tail bytes; a difference goes on to the next element
  for (const [size, load, ne] of [[8, Op.i64_load, Op.i64_ne], [1, Op.i32_load8_u, Op.i32_ne]] as const) {
    chunks(c, J, N, size, () => {
      at(c, A, J);
      c.mem(load, 0, 0);
      at(c, KEY, J);
      c.mem(load, 0, 0);
      c.op(ne);
      c.brIf(2); // -> next
    });
  }
  c.localGet(I);
  c.op(Op.return);
  c.end(); // next:
  c.localGet(NEXT);
  c.localGet(I);
  plusWords(c);
  c.mem(Op.i32_load, 2, 0);
  c.localSet(I);
  c.br(0);
  c.end();
  c.i32Const(-1);
  c.op(Op.end);
  return c;
}

/** zero(dst, n): n a multiple of 8 (element slots are). */
function zeroBody(): FuncBody {
  const [DST, N, J] = [0, 1, 2];
  const c = new FuncBody([[1, I32]]);
  chunks(c, J, N, 8, () => {
    at(c, DST, J);
    c.i64Const32(0);
    c.mem(Op.i64_store, 0, 0);
  });
  c.op(Op.end);
  return c;
}

/** h = hash(st, key); i = find(st, key, h), left on the stack too */
function hashFind(c: FuncBody, f: Funcs, st: number, key: number, h: number, i: number): void {
  c.localGet(st);
  c.localGet(key);
  c.call(f.hash);
  c.localSet(h);
  c.localGet(st);
  c.localGet(key);
  c.localGet(h);
  c.call(f.find);
  c.localTee(i);
}

interface Funcs {
  fb: number;
  hash: number;
  find: number;
  copy: number;
  zero: number;
  /** hash-links.ts: remove(st, i), touch(st, i), front(st, i), victim(st) */
  remove: number;
  touch: number;
  front: number;
  victim: number;
}

/**
 * The start every operation shares: st = the descriptor's table state; when
 * it is 0 or its PROBE bits lack `bit` (or `extra` pushes a nonzero i32),
 * return what the JS operation returns.
 */
function guard(c: FuncBody, f: Funcs, nParams: number, ST: number, bit: number, extra?: () => void): void {
  c.localGet(1); // the map pointer
  c.mem(Op.i32_load, 2, DESC_TABLE_STATE);
  c.localTee(ST);
  c.op(Op.i32_eqz);
  // (with st 0 this reads the NULL guard page, inside the memory; the eqz above decides then)
  hdrGet(c, ST, H.PROBE);
  c.i32Const(bit);
  c.op(Op.i32_and);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  if (extra) {
    extra();
    c.op(Op.i32_or);
  }
  fallbackIf(c, f, nParams);
}
function fallback(c: FuncBody, f: Funcs, nParams: number): void {
  callWithParams(c, f.fb, nParams);
}
/** With an i32 condition on the stack: if it is nonzero, return what the JS operation returns. */
function fallbackIf(c: FuncBody, f: Funcs, nParams: number): void {
  returnIf(c, () => fallback(c, f, nParams));
}

/** Take the i32 on the stack: unless it is below the table's max_entries, a corrupted table: the JS operation decides. */
function fallbackUnlessBelowMax(c: FuncBody, f: Funcs, st: number, nParams: number): void {
  hdrGet(c, st, H.MAX_ENTRIES);
  c.op(Op.i32_ge_u);
  fallbackIf(c, f, nParams);
}

/**
 * Local `off` = the offset of this call's value in an element's value area:
 * 0, or for a per-CPU table (PROBE_PERCPU) (cpu % slots) * stride with the
 * CPU the JIT left in H.CPU (taken: the word is cleared), stride value_size
 * rounded up to 8 and slots the value area over it (maps/hash.ts HashBase's
 * layout in an unshared space). No CPU there (a call the JIT did not
 * prepare) or a table whose sizes make no slots: the JS operation decides.
 */
function perCpuOffset(c: FuncBody, f: Funcs, nParams: number, st: number, off: number, stride: number, slots: number): void {
  c.i32Const(0);
  c.localSet(off);
  hdrGet(c, st, H.PROBE);
  c.i32Const(PROBE_PERCPU);
  c.op(Op.i32_and);
  c.blockStart(Op.if);
  hdrGet(c, st, H.CPU);
  c.localSet(off);
  hdrSet(c, st, H.CPU, () => c.i32Const(0));
  hdrGet(c, st, H.VALUE_SIZE);
  c.i32Const(7);
  c.op(Op.i32_add);
  c.i32Const(-8);
  c.op(Op.i32_and);
  c.localTee(stride);
  c.op(Op.i32_eqz);
  c.localGet(off);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  fallbackIf(c, f, nParams);
  // slots = (slot - keyRound) / stride, then off = ((cpu + 1) - 1) % slots * stride
  hdrGet(c, st, H.SLOT_SIZE);
  hdrGet(c, st, H.KEY_ROUND);
  c.op(Op.i32_sub);
  c.localGet(stride);
  c.op(Op.i32_div_u);
  c.localTee(slots);
  c.op(Op.i32_eqz);
  fallbackIf(c, f, nParams);
  c.localGet(off);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.localGet(slots);
  c.op(Op.i32_rem_u);
  c.localGet(stride);
  c.op(Op.i32_mul);
  c.localSet(off);
  c.end();
}

/** lookup(pc, map, key) -> value address or 0 */
function lookupBody(f: Funcs, shared: boolean): FuncBody {
  const [KEY, ST, I, S, OFF, STRIDE, SLOTS] = [2, 3, 4, 5, 6, 7, 8];
  const c = new FuncBody([[6, I32]]);
  guard(c, f, 3, ST, PROBE_LOOKUP);
  // (shared tables are never per-CPU here: H.CPU is one word for all threads)
  if (shared) {
    c.i32Const(0);
    c.localSet(OFF);
  } else perCpuOffset(c, f, 3, ST, OFF, STRIDE, SLOTS);
  if (shared) {
    // A writer inside (odd count), or one that came and went during the walk: the JS lookup retries and locks (lock.ts SeqCount).
    c.localGet(ST);
    c.atomic(Atomic.i32_load, 2, H.SEQ * 4);
    c.localTee(S);
    c.i32Const(1);
    c.op(Op.i32_and);
    fallbackIf(c, f, 3);
  }
  c.localGet(ST);
  c.localGet(KEY);
  c.localGet(ST);
  c.localGet(KEY);
  c.call(f.hash);
  c.call(f.find);
  c.localSet(I);
  if (shared) {
    c.u8(Op.atomic_prefix);
    c.u8(Atomic.fence);
    c.u8(0);
    c.localGet(ST);
    c.atomic(Atomic.i32_load, 2, H.SEQ * 4);
    c.localGet(S);
    c.op(Op.i32_ne);
    fallbackIf(c, f, 3);
  }
  c.localGet(I);
  c.i32Const(0);
  c.op(Op.i32_lt_s);
  returnIf(c, () => c.i32Const(0));
  // an LRU table's program lookup sets the element's reference bit (HashBase.lookupElem; a racy store in a shared table, as in the kernel)
  markRef(c, ST, I);
  elemAddr(c, ST, I);
  hdrGet(c, ST, H.KEY_ROUND);
  c.op(Op.i32_add);
  c.localGet(OFF);
  c.op(Op.i32_add);
  c.op(Op.end);
  return c;
}

/** update(pc, map, key, value, flags) -> 0 or -errno (BPF_ANY, BPF_NOEXIST, BPF_EXIST; other flags go to JS) */
function updateBody(f: Funcs): FuncBody {
  const [KEY, VAL, FLAGS, ST, HV, I, A, TOP, B, OFF, STRIDE, SLOTS] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const c = new FuncBody([[9, I32]]);
  guard(c, f, 5, ST, PROBE_UPDATE, () => {
    c.localGet(FLAGS);
    c.i32Const(BPF_EXIST);
    c.op(Op.i32_gt_u);
  });
  perCpuOffset(c, f, 5, ST, OFF, STRIDE, SLOTS);
  hashFind(c, f, ST, KEY, HV, I);
  c.i32Const(0);
  c.op(Op.i32_ge_s);
  c.blockStart(Op.if);
  {
    c.localGet(FLAGS);
    c.i32Const(BPF_NOEXIST);
    c.op(Op.i32_eq);
    returnIf(c, () => c.i32Const(-ERRNO_VALUES.EEXIST));
    c.localGet(ST);
    c.localGet(I);
    c.call(f.touch);
  }
  c.op(Op.else);
  {
    c.localGet(FLAGS);
    c.i32Const(BPF_EXIST);
    c.op(Op.i32_eq);
    returnIf(c, () => c.i32Const(-ERRNO_VALUES.ENOENT));
    // a full map: an LRU table evicts (HashTable.insert / victim), others fail
    // with E2BIG (htab_map_update_elem's alloc_htab_elem)
    hdrGet(c, ST, H.FREE_TOP);
    c.op(Op.i32_eqz);
    c.blockStart(Op.if);
    c.i32Const(-1);
    c.localSet(TOP);
    isLru(c, ST);
    c.blockStart(Op.if);
    c.localGet(ST);
    c.call(f.victim);
    c.localSet(TOP);
    c.end();
    c.localGet(TOP);
    c.i32Const(0);
    c.op(Op.i32_lt_s);
    returnIf(c, () => c.i32Const(-ERRNO_VALUES.E2BIG));
    c.localGet(ST);
    c.localGet(TOP);
    c.call(f.remove);
    c.end();
    // pop a free element; a top or an element number out of range is a corrupted table: the JS operation
    hdrGet(c, ST, H.FREE_TOP);
    c.i32Const(1);
    c.op(Op.i32_sub);
    c.localTee(TOP);
    fallbackUnlessBelowMax(c, f, ST, 5);
    arrAddr(c, ST, H.FREE, TOP);
    c.mem(Op.i32_load, 2, 0);
    c.localTee(I);
    fallbackUnlessBelowMax(c, f, ST, 5);
    hdrSet(c, ST, H.FREE_TOP, () => c.localGet(TOP));
    // a new element: zeroed, then the key (HashTable.insert's order)
    elemAddr(c, ST, I);
    c.localTee(A);
    hdrGet(c, ST, H.SLOT_SIZE);
    c.call(f.zero);
    c.localGet(A);
    c.localGet(KEY);
    hdrGet(c, ST, H.KEY_SIZE);
    c.call(f.copy);
    arrAddr(c, ST, H.HASHES, I);
    c.localGet(HV);
    c.mem(Op.i32_store, 2, 0);
    // at the head of its bucket
    bucketAddr(c, ST, HV);
    c.localSet(B);
    arrAddr(c, ST, H.NEXT, I);
    c.localGet(B);
    c.mem(Op.i32_load, 2, 0);
    c.mem(Op.i32_store, 2, 0);
    c.localGet(B);
    c.localGet(I);
    c.mem(Op.i32_store, 2, 0);
    hdrSet(c, ST, H.COUNT, () => {
      hdrGet(c, ST, H.COUNT);
      c.i32Const(1);
      c.op(Op.i32_add);
    });
    isLru(c, ST);
    c.blockStart(Op.if);
    c.localGet(ST);
    c.localGet(I);
    c.call(f.front);
    c.end();
  }
  c.end();
  // the value (a per-CPU element's: this CPU's; a new one's other CPUs stay zeroed, pcpu_init_value)
  elemAddr(c, ST, I);
  hdrGet(c, ST, H.KEY_ROUND);
  c.op(Op.i32_add);
  c.localGet(OFF);
  c.op(Op.i32_add);
  c.localGet(VAL);
  hdrGet(c, ST, H.VALUE_SIZE);
  c.call(f.copy);
  c.i32Const(0);
  c.op(Op.end);
  return c;
}

/** delete(pc, map, key) -> 0 or -ENOENT */
function deleteBody(f: Funcs): FuncBody {
  const [KEY, ST, HV, I] = [2, 3, 4, 5];
  const c = new FuncBody([[3, I32]]);
  guard(c, f, 3, ST, PROBE_UPDATE);
  hashFind(c, f, ST, KEY, HV, I);
  c.i32Const(0);
  c.op(Op.i32_lt_s);
  returnIf(c, () => c.i32Const(-ERRNO_VALUES.ENOENT));
  c.localGet(ST);
  c.localGet(I);
  c.call(f.remove);
  c.i32Const(0);
  c.op(Op.end);
  return c;
}

const ARITY: Record<ProbeOp, number> = { lookup: 3, update: 5, delete: 3 };

/** The module of one operation, for a shared or unshared memory (imports e.mem and e.fb, exports op). */
export function probeModuleBytes(op: ProbeOp, shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  const opType = m.type(Array.from({ length: ARITY[op] }, (): ValType => I32), [I32]);
  const fb = m.importFunc('e', 'fb', opType);
  m.importMemory('e', 'mem', 0, shared ? 65536 : undefined, shared);
  const f: Funcs = {
    fb,
    hash: m.declareFunc(m.type([I32, I32], [I32])),
    find: m.declareFunc(m.type([I32, I32, I32], [I32])),
    copy: m.declareFunc(m.type([I32, I32, I32], [])),
    zero: m.declareFunc(m.type([I32, I32], [])),
    remove: m.declareFunc(m.type([I32, I32], [])),
    touch: m.declareFunc(m.type([I32, I32], [])),
    front: m.declareFunc(m.type([I32, I32], [])),
    victim: m.declareFunc(m.type([I32], [I32])),
  };
  const main = m.declareFunc(opType);
  m.setBody(0, hashBody());
  m.setBody(1, findBody());
  m.setBody(2, copyBody());
  m.setBody(3, zeroBody());
  m.setBody(4, removeBody());
  m.setBody(5, touchBody(f.front));
  m.setBody(6, frontBody());
  m.setBody(7, victimBody(f.front));
  m.setBody(8, op === 'lookup' ? lookupBody(f, shared) : op === 'update' ? updateBody(f) : deleteBody(f));
  m.exportFunc(op, main);
  return m.toBytes();
}

const modules = new Map<string, WebAssembly.Module>();

/**
 * The WebAssembly form of a map helper's 32-bit import for a program's
 * memory: an exported wasm function the JIT's module imports in place of
 * the JS one, calling `fallback` (the JS one) for what it does not do.
 * Shared tables' changes always go to JS (they take the map's lock).
 */
export function hashProbe(op: ProbeOp, memory: WebAssembly.Memory, shared: boolean, fallback: ProbeFallback): ProbeFallback {
  const key = `${op}/${shared}`;
  let mod = modules.get(key);
  if (!mod) {
    mod = new WebAssembly.Module(probeModuleBytes(op, shared) as BufferSource);
    modules.set(key, mod);
  }
  const inst = new WebAssembly.Instance(mod, { e: { mem: memory, fb: fallback } });
  return inst.exports[op] as ProbeFallback;
}
