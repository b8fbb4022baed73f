/**
 * bpf_ringbuf_reserve, bpf_ringbuf_submit and bpf_ringbuf_discard in
 * WebAssembly (kernel/bpf/ringbuf.c: __bpf_ringbuf_reserve and
 * bpf_ringbuf_commit), so that a JIT-compiled program's reserve-fill-submit
 * stays in WebAssembly like its bpf_ringbuf_output (ringbuf-wasm.ts, whose
 * reservation code both use).
 *
 * Reserve writes the header `{ size | BPF_RINGBUF_BUSY_BIT, pg_off }` and
 * moves producer_pos; submit clears the busy bit, discard clears it and sets
 * BPF_RINGBUF_DISCARD_BIT, with the counters the JS ring keeps. The
 * consumer sees exactly what the JS producer leaves (RingBuf.reserve and
 * commit). The JS helpers are called when:
 *   - the map is not a ring, or a reservation finds every held slot taken
 *     (below): the JS reserve, which keeps the record in HelperRun.held;
 *   - submit/discard of a record this code did not reserve (one the JS
 *     reserve handed out): the JS commit;
 *   - the commit would wake the reader (BPF_RB_FORCE_WAKEUP, or no
 *     BPF_RB_NO_WAKEUP and the reader caught up with this record,
 *     bpf_ringbuf_commit's adaptive notification): the JS commit, which
 *     queues the wakeup. A reader draining after each batch makes this one
 *     call per batch.
 *
 * Held records. The verifier makes a program submit or discard every record
 * it reserves, but tsbpf can stop a run half-way (a deadline, a fault), and
 * a record left busy would stall the ring's reader for good; the JS reserve
 * lists its records in HelperRun.held and whoever ran the program calls
 * releaseHeld. Here the records are kept in a few slots (HELD_SLOTS pairs of
 * record and map, in the globals of one small instance per memory, which
 * every program's reserve and commit over that memory call wasm-to-wasm),
 * and the first reservation after a release puts one marker in the run's
 * `held` list whose discard gives back every slot still taken. Runs on one
 * thread nest strictly, so the run that set the marker is the outermost run
 * holding records here: its release never takes a record another run still
 * holds.
 *
 * Safety: a commit touches only a record found in the slots, that is an
 * address this code computed inside the ring when it reserved it; so a
 * record address the host corrupted or a program forged cannot make it
 * write anywhere else. Reservations write inside the ring for the reasons
 * ringbuf-wasm.ts gives, and their loop is bounded. Shared address spaces
 * (producers on several threads) keep the JS helpers, which take the
 * ring's lock.
 */
import { FuncBody, I32, I64, ModuleBuilder, Op } from '../vm/jit/wasm.js';
import type { ExecEnv, HelperImport32 } from '../vm/helper-abi.js';
import { BPF_RB_NO_WAKEUP, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, DATA_OFF, DESC_RINGBUF_CTRL, RB } from '../memory/ringbuf-layout.js';
import { bump, emitReserve, ifWakes, loadRing, statOff, type ReserveLocals } from './ringbuf-wasm.js';
import { at, callWithParams } from './wasm-code.js';
import { runOf, type HelperHost } from './env.js';

/** records a program may hold at once in WebAssembly; more go through the JS reserve */
export const HELD_SLOTS = 4;
/** the slots instance's globals: record i at REC(i), its map at MAP(i), then the marker flag */
const REC = (i: number): number => i;
const MAPG = (i: number): number => HELD_SLOTS + i;
const MARKED = 2 * HELD_SLOTS;

/**
 * The slots module: room() -> 1 if a slot is free; hold(rec, map); take(rec)
 * -> its map (0: not held here), freeing the slot; mark() -> the marker flag
 * before setting it. Its globals are exported for the JS release.
 */
function slotsModuleBytes(): Uint8Array {
  const m = new ModuleBuilder();
  for (let g = 0; g <= MARKED; g++) m.global(I32, true, 0);
  const room = m.declareFunc(m.type([], [I32]));
  const hold = m.declareFunc(m.type([I32, I32], []));
  const take = m.declareFunc(m.type([I32], [I32]));
  const mark = m.declareFunc(m.type([], [I32]));
  const roomB = new FuncBody([]);
  for (let i = 0; i < HELD_SLOTS; i++) {
    roomB.globalGet(REC(i));
    roomB.op(Op.i32_eqz);
    if (i > 0) roomB.op(Op.i32_or);
  }
  roomB.op(Op.end);
  const holdB = new FuncBody([]);
  for (let i = 0; i < HELD_SLOTS; i++) {
    holdB.globalGet(REC(i));
    holdB.op(Op.i32_eqz);
    holdB.blockStart(Op.if);
    holdB.localGet(0);
    holdB.globalSet(REC(i));
    holdB.localGet(1);
    holdB.globalSet(MAPG(i));
    holdB.op(Op.return);
    holdB.end();
  }
  holdB.op(Op.end);
  const takeB = new FuncBody([[1, I32]]);
  takeB.localGet(0);
  takeB.op(Op.i32_eqz);
  takeB.blockStart(Op.if);
  takeB.i32Const(0);
  takeB.op(Op.return);
  takeB.end();
  for (let i = 0; i < HELD_SLOTS; i++) {
    takeB.globalGet(REC(i));
    takeB.localGet(0);
    takeB.op(Op.i32_eq);
    takeB.blockStart(Op.if);
    takeB.i32Const(0);
    takeB.globalSet(REC(i));
    takeB.globalGet(MAPG(i));
    takeB.i32Const(0);
    takeB.globalSet(MAPG(i));
    takeB.op(Op.return);
    takeB.end();
  }
  takeB.i32Const(0);
  takeB.op(Op.end);
  const markB = new FuncBody([]);
  markB.globalGet(MARKED);
  markB.i32Const(1);
  markB.globalSet(MARKED);
  markB.op(Op.end);
  m.setBody(0, roomB);
  m.setBody(1, holdB);
  m.setBody(2, takeB);
  m.setBody(3, markB);
  for (const [name, f] of [['room', room], ['hold', hold], ['take', take], ['mark', mark]] as const) m.exportFunc(name, f);
  for (let i = 0; i < HELD_SLOTS; i++) (m.exportGlobal(`r${i}`, REC(i)), m.exportGlobal(`m${i}`, MAPG(i)));
  m.exportGlobal('marked', MARKED);
  return m.toBytes();
}

/** reserve(pc, map, size, flags) -> the sample's address or 0 */
function reserveBody(f: { fb: number; note: number; room: number; hold: number; mark: number }): FuncBody {
  const [MAP, SIZE, FLAGS] = [1, 2, 3];
  const L: ReserveLocals = { SIZE, ST: 4, MASK: 5, LEN: 6, OFF: 7, HL: 8, STEPS: 9, CONS: 10, PROD: 11, PEND: 12 };
  const c = new FuncBody([[6, I32], [3, I64]]);
  const fallback = (): void => {
    callWithParams(c, f.fb, 4);
    c.op(Op.return);
  };
  // not a ring, or no free slot: the JS reserve
  c.localGet(MAP);
  c.mem(Op.i32_load, 2, DESC_RINGBUF_CTRL);
  c.localTee(L.ST);
  c.op(Op.i32_eqz);
  c.call(f.room);
  c.op(Op.i32_eqz);
  c.op(Op.i32_or);
  c.blockStart(Op.if);
  fallback();
  c.end();
  // flags must be 0 (bpf_ringbuf_reserve: NULL, not counted as dropped)
  c.localGet(FLAGS);
  c.blockStart(Op.if);
  c.i32Const(0);
  c.op(Op.return);
  c.end();
  // the first reservation since the last release puts the marker in the run's held list
  c.call(f.mark);
  c.op(Op.i32_eqz);
  c.blockStart(Op.if);
  c.call(f.note);
  c.end();
  loadRing(c, MAP, L);
  c.blockStart(Op.block); // dropped
  emitReserve(c, L);
  at(c, L.ST, L.OFF);
  c.localGet(SIZE);
  c.i32Const(BPF_RINGBUF_BUSY_BIT | 0);
  c.op(Op.i32_or);
  c.mem(Op.i32_store, 2, 0);
  at(c, L.ST, L.OFF);
  c.i32Const(BPF_RINGBUF_HDR_SZ);
  c.op(Op.i32_add);
  c.localTee(L.OFF);
  c.localGet(MAP);
  c.call(f.hold);
  c.localGet(L.OFF);
  c.op(Op.return);
  c.end(); // dropped:
  bump(c, L.ST, statOff('dropped'));
  c.i32Const(0);
  c.op(Op.end);
  return c;
}

/** commit(pc, rec, flags) -> 0: submit, or discard when `discard` */
function commitBody(discard: boolean, f: { fb: number; take: number }): FuncBody {
  const [REC_, FLAGS] = [1, 2];
  const [MAP, ST, MASK, HDR] = [3, 4, 5, 6];
  const c = new FuncBody([[4, I32]]);
  const fallback = (): void => {
    callWithParams(c, f.fb, 3);
    c.op(Op.return);
  };
  // a record this code did not reserve: the JS commit
  c.localGet(REC_);
  c.call(f.take);
  c.localTee(MAP);
  c.op(Op.i32_eqz);
  c.blockStart(Op.if);
  fallback();
  c.end();
  c.localGet(MAP);
  c.mem(Op.i32_load, 2, DESC_RINGBUF_CTRL);
  c.localSet(ST);
  c.localGet(MAP);
  c.mem(Op.i32_load, 2, 12);
  c.i32Const(1);
  c.op(Op.i32_sub);
  c.localSet(MASK);
  c.localGet(REC_);
  c.i32Const(BPF_RINGBUF_HDR_SZ);
  c.op(Op.i32_sub);
  c.localSet(HDR);
  // a commit that wakes the reader: JS (FORCE_WAKEUP, or no NO_WAKEUP and consumer_pos at this record)
  ifWakes(c, FLAGS, () => {
    c.localGet(ST);
    c.mem(Op.i32_load, 2, RB.CONS * 4);
    c.localGet(HDR);
    c.localGet(ST);
    c.op(Op.i32_sub);
    c.i32Const(DATA_OFF);
    c.op(Op.i32_sub);
    c.op(Op.i32_xor);
    c.localGet(MASK);
    c.op(Op.i32_and);
    c.op(Op.i32_eqz);
  }, fallback);
  c.localGet(HDR);
  c.localGet(HDR);
  c.mem(Op.i32_load, 2, 0);
  c.i32Const(BPF_RINGBUF_BUSY_BIT | 0);
  c.op(Op.i32_xor);
  if (discard) {
    c.i32Const(BPF_RINGBUF_DISCARD_BIT);
    c.op(Op.i32_or);
  }
  c.mem(Op.i32_store, 2, 0);
  bump(c, ST, statOff(discard ? 'discarded' : 'submitted'));
  c.localGet(FLAGS);
  c.i32Const(BPF_RB_NO_WAKEUP);
  c.op(Op.i32_and);
  c.blockStart(Op.if);
  bump(c, ST, statOff('noWakeup'));
  c.end();
  c.i32Const(0);
  c.op(Op.end);
  return c;
}

type Op3 = 'reserve' | 'submit' | 'discard';

function opModuleBytes(op: Op3): Uint8Array {
  const m = new ModuleBuilder();
  const reserve = op === 'reserve';
  const opType = m.type(new Array<number>(reserve ? 4 : 3).fill(I32) as typeof I32[], [I32]);
  const fb = m.importFunc('e', 'fb', opType);
  if (reserve) {
    const note = m.importFunc('e', 'note', m.type([], []));
    const room = m.importFunc('s', 'room', m.type([], [I32]));
    const hold = m.importFunc('s', 'hold', m.type([I32, I32], []));
    const mark = m.importFunc('s', 'mark', m.type([], [I32]));
    m.importMemory('e', 'mem', 0, undefined, false);
    m.setBody(0, reserveBody({ fb, note, room, hold, mark }));
  } else {
    const take = m.importFunc('s', 'take', m.type([I32], [I32]));
    m.importMemory('e', 'mem', 0, undefined, false);
    m.setBody(0, commitBody(op === 'discard', { fb, take }));
  }
  m.exportFunc(op, m.declareFunc(opType));
  return m.toBytes();
}

interface Slots {
  exports: WebAssembly.Exports;
  rec: WebAssembly.Global[];
  map: WebAssembly.Global[];
  marked: WebAssembly.Global;
}

const modules = new Map<string, WebAssembly.Module>();
const slotsOf = new WeakMap<WebAssembly.Memory, Slots>();

function moduleFor(key: string, bytes: () => Uint8Array): WebAssembly.Module {
  let mod = modules.get(key);
  if (!mod) modules.set(key, (mod = new WebAssembly.Module(bytes() as BufferSource)));
  return mod;
}

function slotsFor(memory: WebAssembly.Memory): Slots {
  let s = slotsOf.get(memory);
  if (!s) {
    const exports = new WebAssembly.Instance(moduleFor('slots', slotsModuleBytes), {}).exports;
    const g = (n: string): WebAssembly.Global => exports[n] as WebAssembly.Global;
    s = { exports, rec: [], map: [], marked: g('marked') };
    for (let i = 0; i < HELD_SLOTS; i++) (s.rec.push(g(`r${i}`)), s.map.push(g(`m${i}`)));
    slotsOf.set(memory, s);
  }
  return s;
}

/** Discard every record still held in `s` (a run stopped half-way) and clear the marker: releaseHeld's part here. */
function release(s: Slots, host: HelperHost): void {
  s.marked.value = 0;
  for (let i = 0; i < HELD_SLOTS; i++) {
    const rec = s.rec[i]!.value as number;
    if (rec === 0) continue;
    const map = s.map[i]!.value as number;
    s.rec[i]!.value = 0;
    s.map[i]!.value = 0;
    host.mapAt(map >>> 0)?.discard?.(rec >>> 0, 0n);
  }
}

/**
 * The WebAssembly form of bpf_ringbuf_reserve's, submit's or discard's
 * 32-bit import for a program's memory; a shared memory keeps `fallback`.
 */
export function ringbufOpWasm(op: Op3) {
  return (memory: WebAssembly.Memory, shared: boolean, fallback: HelperImport32, env: () => ExecEnv): HelperImport32 => {
    if (shared) return fallback;
    const s = slotsFor(memory);
    const imports: WebAssembly.Imports = { e: { mem: memory, fb: fallback }, s: s.exports };
    if (op === 'reserve')
      imports['e']!['note'] = (): void => {
        const run = runOf(env());
        (run.held ??= []).push({ ring: { discard: () => release(s, run.host) }, rec: 0 });
      };
    return new WebAssembly.Instance(moduleFor(op, () => opModuleBytes(op)), imports).exports[op] as HelperImport32;
  };
}
