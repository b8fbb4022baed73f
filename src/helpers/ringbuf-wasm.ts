/**
 * bpf_ringbuf_output in WebAssembly: a small hand-assembled module over the
 * runtime's memory that writes a record into the ring whose block
 * memory/ringbuf-layout.ts lays out (the block RingBuf keeps), so a
 * JIT-compiled program's output is a wasm-to-wasm call instead of a call
 * into JS (kernel/bpf/ringbuf.c: bpf_ringbuf_output = __bpf_ringbuf_reserve,
 * a copy, bpf_ringbuf_commit).
 *
 * The exported function has the signature of the helper's 32-bit import
 * (the JIT's h.<id>_32: pc, map, data, size, flags as i32). It finds the
 * ring's control block through the map's descriptor (DESC_RINGBUF_CTRL) and
 * writes the record with the kernel's header protocol: the 8-byte header
 * `{ len, pg_off }`, producer_pos and pending_pos as __bpf_ringbuf_reserve
 * moves them, the same room check (never more than size-1 bytes ahead of
 * consumer_pos or of the oldest busy record), -EAGAIN and the `dropped`
 * counter when there is no room. It calls the JS helper it was given (which
 * keeps every other rule in one place) when:
 *   - the map is not a ring (the JS helper answers -EINVAL);
 *   - flags other than BPF_RB_NO_WAKEUP / BPF_RB_FORCE_WAKEUP (-EINVAL);
 *   - the commit would wake the reader: BPF_RB_FORCE_WAKEUP, or no
 *     BPF_RB_NO_WAKEUP and the reader has caught up (consumer_pos ==
 *     producer_pos, bpf_ringbuf_commit's adaptive notification). The wakeup
 *     is a JS microtask; the reader drains a whole batch per wakeup, so this
 *     is one call per batch, not per record.
 * Shared address spaces (producers on several threads) keep the JS helper,
 * which takes the ring's lock.
 *
 * Safety: linked only into the JIT's plain variant, which runs verified
 * programs, whose map pointers are the maps' own descriptors (read-only to
 * programs) and whose data and size the verifier checked. Every address
 * written is ctrl + DATA_OFF + (producer_pos & mask) + [0, len) with
 * len <= ring size - 1 (a size not below the ring size is refused before the
 * rounding, so it cannot wrap), which is inside the ring's data area of
 * twice the ring size; the mask is the descriptor's max_entries - 1.
 */
import { FuncBody, I32, I64, ModuleBuilder, Op } from '../vm/jit/wasm.js';
import { ERRNO_VALUES } from '../errors.js';
import {
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  DATA_OFF,
  DESC_RINGBUF_CTRL,
  RB,
  RINGBUF_STAT_NAMES,
} from '../memory/ringbuf-layout.js';
import { at, callWithParams, copyBody } from './wasm-code.js';
import type { HelperImport32 } from '../vm/helper-abi.js';

/** the descriptor's max_entries word (maps/descriptor.ts) */
const DESC_MAX_ENTRIES = 12;
export const statOff = (name: (typeof RINGBUF_STAT_NAMES)[number]): number => (RB.STATS + RINGBUF_STAT_NAMES.indexOf(name)) * 4;

/** counter += 1 for the control block in local `st` */
export function bump(c: FuncBody, st: number, off: number): void {
  c.localGet(st);
  c.localGet(st);
  c.mem(Op.i32_load, 2, off);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.mem(Op.i32_store, 2, off);
}

/** The locals emitReserve works with (their indices in the function). */
export interface ReserveLocals {
  SIZE: number;
  ST: number;
  MASK: number;
  LEN: number;
  OFF: number;
  HL: number;
  STEPS: number;
  CONS: number;
  PROD: number;
  PEND: number;
}

/**
 * __bpf_ringbuf_reserve's ring work, emitted inline for the producers here
 * and in ringbuf-reserve-wasm.ts: ST (control block), MASK, CONS and PROD
 * are loaded; `br 0` from the caller's level is "no room" (the record is
 * dropped). On the way through, OFF is the record's offset from ST, its
 * header has pg_off, and producer_pos has moved past it; the caller writes
 * the header's len.
 */
export function emitReserve(c: FuncBody, L: ReserveLocals): void {
  // A sample of the ring's size or more never fits (tested before the rounding, which could wrap);
  // then the record as the JS ring refuses it (RingBuf.reserveRaw: len > ring size), before pending_pos moves.
  c.localGet(L.SIZE);
  c.localGet(L.MASK);
  c.op(Op.i32_gt_u);
  c.brIf(0);
  c.localGet(L.SIZE);
  c.i32Const(BPF_RINGBUF_HDR_SZ + 7);
  c.op(Op.i32_add);
  c.i32Const(~7);
  c.op(Op.i32_and);
  c.localTee(L.LEN);
  c.localGet(L.MASK);
  c.i32Const(1);
  c.op(Op.i32_add);
  c.op(Op.i32_gt_u);
  c.brIf(0);
  // pending_pos past the records committed since (__bpf_ringbuf_reserve); each step moves >= 8 bytes
  // toward producer_pos, and at most ring size / 8 + 1 steps are taken, so a block the host corrupted
  // (positions far apart) cannot hold the program in this loop (RingBuf.reserveRaw has the same bound).
  c.localGet(L.ST);
  c.mem(Op.i64_load, 3, RB.PENDING * 4);
  c.localSet(L.PEND);
  c.localGet(L.MASK);
  c.i32Const(3);
  c.op(Op.i32_shr_u);
  c.i32Const(2);
  c.op(Op.i32_add);
  c.localSet(L.STEPS);
  c.blockStart(Op.block);
  c.blockStart(Op.loop);
  c.localGet(L.PROD);
  c.localGet(L.PEND);
  c.op(Op.i64_sub);
  c.i64Const32(0);
  c.op(Op.i64_gt_s);
  c.op(Op.i32_eqz);
  c.brIf(1);
  c.localGet(L.STEPS);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.localTee(L.STEPS);
  c.op(Op.i32_eqz);
  c.brIf(1);
  c.localGet(L.ST);
  c.localGet(L.PEND);
  c.op(Op.i32_wrap_i64);
  c.localGet(L.MASK);
  c.op(Op.i32_and);
  c.op(Op.i32_add);
  c.mem(Op.i32_load, 2, DATA_OFF);
  c.localTee(L.HL);
  c.i32Const(BPF_RINGBUF_BUSY_BIT | 0);
  c.op(Op.i32_and);
  c.brIf(1);
  c.localGet(L.PEND);
  c.localGet(L.HL);
  c.i32Const(~BPF_RINGBUF_DISCARD_BIT);
  c.op(Op.i32_and);
  c.i32Const(BPF_RINGBUF_HDR_SZ + 7);
  c.op(Op.i32_add);
  c.i32Const(~7);
  c.op(Op.i32_and);
  c.op(Op.i64_extend_i32_u);
  c.op(Op.i64_add);
  c.localSet(L.PEND);
  c.br(0);
  c.end();
  c.end();
  c.localGet(L.ST);
  c.localGet(L.PEND);
  c.mem(Op.i64_store, 3, RB.PENDING * 4);
  // room: new producer_pos at most size-1 ahead of consumer_pos and of pending_pos
  for (const behind of [L.CONS, L.PEND]) {
    c.localGet(L.PROD);
    c.localGet(L.LEN);
    c.op(Op.i64_extend_i32_u);
    c.op(Op.i64_add);
    c.localGet(behind);
    c.op(Op.i64_sub);
    c.localGet(L.MASK);
    c.op(Op.i64_extend_i32_u);
    c.op(Op.i64_gt_u);
    c.brIf(0);
  }
  // the record at ctrl + DATA_OFF + (prod & mask)
  c.localGet(L.PROD);
  c.op(Op.i32_wrap_i64);
  c.localGet(L.MASK);
  c.op(Op.i32_and);
  c.i32Const(DATA_OFF);
  c.op(Op.i32_add);
  c.localSet(L.OFF);
  // pg_off: the header's page offset from the ring's block, as the kernel stores it
  at(c, L.ST, L.OFF);
  c.localGet(L.OFF);
  c.i32Const(12);
  c.op(Op.i32_shr_u);
  c.mem(Op.i32_store, 2, 4);
  c.localGet(L.ST);
  c.localGet(L.PROD);
  c.localGet(L.LEN);
  c.op(Op.i64_extend_i32_u);
  c.op(Op.i64_add);
  c.mem(Op.i64_store, 3, RB.PROD * 4);
}

/** st = the ring's control block, mask, consumer_pos, producer_pos from the map's descriptor (ST already set) */
export function loadRing(c: FuncBody, map: number, L: ReserveLocals): void {
  c.localGet(map);
  c.mem(Op.i32_load, 2, DESC_MAX_ENTRIES);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.localSet(L.MASK);
  c.localGet(L.ST);
  c.mem(Op.i64_load, 3, RB.CONS * 4);
  c.localSet(L.CONS);
  c.localGet(L.ST);
  c.mem(Op.i64_load, 3, RB.PROD * 4);
  c.localSet(L.PROD);
}

/**
 * if (a commit with these flags wakes the reader) then(): BPF_RB_FORCE_WAKEUP,
 * or no BPF_RB_NO_WAKEUP and `caughtUp` (pushes an i32: the reader is at this
 * record), as bpf_ringbuf_commit decides
 */
export function ifWakes(c: FuncBody, flags: number, caughtUp: () => void, then: () => void): void {
  c.localGet(flags);
  c.i32Const(BPF_RB_FORCE_WAKEUP);
  c.op(Op.i32_and);
  c.localGet(flags);
  c.i32Const(BPF_RB_NO_WAKEUP);
  c.op(Op.i32_and);
  c.op(Op.i32_eqz);
  caughtUp();
  c.op(Op.i32_and);
  c.op(Op.i32_or);
  c.blockStart(Op.if);
  then();
  c.end();
}

/** output(pc, map, data, size, flags) -> 0 or -errno */
function outputBody(fb: number, copy: number): FuncBody {
  const [MAP, DATA, SIZE, FLAGS] = [1, 2, 3, 4];
  const L: ReserveLocals = { SIZE, ST: 5, MASK: 6, LEN: 7, OFF: 8, HL: 9, STEPS: 10, CONS: 11, PROD: 12, PEND: 13 };
  const c = new FuncBody([[6, I32], [3, I64]]);
  const fallback = (): void => {
    callWithParams(c, fb, 5);
    c.op(Op.return);
  };
  // st = the ring's control block; 0 (not a ring) or unknown flags: JS
  c.localGet(MAP);
  c.mem(Op.i32_load, 2, DESC_RINGBUF_CTRL);
  c.localTee(L.ST);
  c.op(Op.i32_eqz);
  c.localGet(FLAGS);
  c.i32Const(~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP));
  c.op(Op.i32_and);
  c.op(Op.i32_or);
  c.blockStart(Op.if);
  fallback();
  c.end();
  loadRing(c, MAP, L);
  // A commit that wakes the reader: JS (FORCE_WAKEUP, or no NO_WAKEUP and the reader caught up)
  ifWakes(c, FLAGS, () => {
    c.localGet(L.CONS);
    c.localGet(L.PROD);
    c.op(Op.i64_eq);
  }, fallback);
  c.blockStart(Op.block); // dropped
  emitReserve(c, L);
  // the sample after the header, then the commit: len without BPF_RINGBUF_BUSY_BIT
  // (no other thread reads this space's ring mid-record)
  at(c, L.ST, L.OFF);
  c.i32Const(BPF_RINGBUF_HDR_SZ);
  c.op(Op.i32_add);
  c.localGet(DATA);
  c.localGet(SIZE);
  c.call(copy);
  at(c, L.ST, L.OFF);
  c.localGet(SIZE);
  c.mem(Op.i32_store, 2, 0);
  bump(c, L.ST, statOff('submitted'));
  c.localGet(FLAGS);
  c.i32Const(BPF_RB_NO_WAKEUP);
  c.op(Op.i32_and);
  c.blockStart(Op.if);
  bump(c, L.ST, statOff('noWakeup'));
  c.end();
  c.i32Const(0);
  c.op(Op.return);
  c.end(); // dropped:
  bump(c, L.ST, statOff('dropped'));
  c.i32Const(-ERRNO_VALUES.EAGAIN);
  c.op(Op.end);
  return c;
}

/** The producer module (imports e.mem and e.fb, exports output). */
function ringbufModuleBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const outType = m.type([I32, I32, I32, I32, I32], [I32]);
  const fb = m.importFunc('e', 'fb', outType);
  m.importMemory('e', 'mem', 0, undefined, false);
  const copy = m.declareFunc(m.type([I32, I32, I32], []));
  const output = m.declareFunc(outType);
  m.setBody(0, copyBody());
  m.setBody(1, outputBody(fb, copy));
  m.exportFunc('output', output);
  return m.toBytes();
}

let mod: WebAssembly.Module | undefined;

/**
 * The WebAssembly form of bpf_ringbuf_output's 32-bit import for a
 * program's memory; a shared memory keeps `fallback` (the JS helper).
 */
export function ringbufOutputWasm(memory: WebAssembly.Memory, shared: boolean, fallback: HelperImport32): HelperImport32 {
  if (shared) return fallback;
  mod ??= new WebAssembly.Module(ringbufModuleBytes() as BufferSource);
  const inst = new WebAssembly.Instance(mod, { e: { mem: memory, fb: fallback } });
  return inst.exports['output'] as HelperImport32;
}
