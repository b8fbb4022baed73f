/**
 * The interpreter's out-of-line paths: address resolution when the fast
 * window check fails, 64-bit multiply/divide, atomics, helper calls, tail
 * calls and the legacy packet loads. Kept out of the dispatch loop so that
 * the loop stays small enough for V8 to optimise as a whole.
 */
import * as op from '../../isa/opcodes.js';
import { NULL_GUARD } from '../../memory/address-space.js';
import { probeTable } from '../../memory/probe-mem.js';
import { BudgetExceeded, CallDepthExceeded, ExecError, HelperError, UnknownHelper, UnsupportedInsn, VmFault } from '../fault.js';
import type { AccessKind } from '../fault.js';
import type { Executable } from '../engine.js';
import { Activation, REG_WORDS, type InterpTarget, type RunState } from './state.js';
import { I_INVALID } from './decode.js';
import { fn32Signed } from '../helper-abi.js';

const TWO32 = 4294967296;

// ---------------------------------------------------------------------------
// Memory

/**
 * Resolve the effective address of an access whose fast window check failed.
 * Computes the exact 64-bit address (base register + sign-extended offset,
 * modulo 2^64, RFC 9669 5.1), checks it against the space (unchecked mode) or
 * the registered regions (checked mode), widens the window on success and
 * throws a {@link VmFault} otherwise.
 */
export function resolveAccess(st: RunState, pc: number, lo: number, hi: number, off: number, size: number, write: boolean): number {
  const addr = BigInt.asUintN(64, ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) + BigInt(off));
  const access: AccessKind = write ? 'write' : 'read';
  const space = st.space;
  if (addr + BigInt(size) > BigInt(st.buf.byteLength)) {
    throw new VmFault(pc, addr, size, access, addr < 2n ** 32n ? space.nearestRegion(Number(addr)) : undefined, 'outside the address space');
  }
  const a = Number(addr);
  if (!st.checked) {
    if (a < NULL_GUARD) throw new VmFault(pc, addr, size, access, space.nearestRegion(a), 'NULL pointer dereference');
    return a;
  }
  const r = space.regionOf(a, size);
  if (r === undefined) {
    const inside = space.regionOf(a, 1);
    const reason = inside ? `crosses the end of its region` : a < NULL_GUARD ? 'NULL pointer dereference' : 'outside any region';
    throw new VmFault(pc, addr, size, access, inside ?? space.nearestRegion(a), reason);
  }
  if (write) {
    if (!r.writable) throw new VmFault(pc, addr, size, access, r, 'write to a read-only region');
    st.wLo = r.base;
    st.wHi = r.base + r.size;
  } else {
    st.rLo = r.base;
    st.rHi = r.base + r.size;
  }
  return a;
}

/**
 * A BPF_PROBE_MEM load (memory/probe-mem.ts): the bytes when [addr, addr+size)
 * lies inside the space's kernel memory, else 0 in the destination, as the
 * kernel's exception-table fixup (ex_handler_bpf) leaves it. Never a fault.
 */
export function probeLoad(st: RunState, act: Activation, pc: number): void {
  const R = act.R;
  const prog = act.prog;
  const code = prog.insns[pc]!.code;
  const size = op.sizeBytes(op.sizeOf(code));
  const s = prog.src[pc]!;
  const d = prog.dst[pc]!;
  // the 64-bit address, modulo 2^64 (RFC 9669 5.1), as lo/hi words
  const off = prog.off[pc]!;
  const sum = (R[s]! >>> 0) + off;
  const lo = sum >>> 0;
  const hi = (R[s + 1]! + Math.floor(sum / TWO32)) | 0;
  if (!(st.probe ??= probeTable(st.space)).readable(lo, hi, size)) {
    R[d] = 0;
    R[d + 1] = 0;
    return;
  }
  const dv = st.dv;
  const signExtending = op.modeOf(code) === op.BPF_MEMSX;
  let v: number;
  switch (size) {
    case 8:
      R[d] = dv.getInt32(lo, true);
      R[d + 1] = dv.getInt32(lo + 4, true);
      return;
    case 4:
      v = dv.getInt32(lo, true);
      break;
    case 2:
      v = signExtending ? dv.getInt16(lo, true) : dv.getUint16(lo, true);
      break;
    default:
      v = signExtending ? dv.getInt8(lo) : dv.getUint8(lo);
  }
  R[d] = v;
  R[d + 1] = signExtending ? v >> 31 : 0;
}

/** Check an access of `size` bytes at a register+offset, returning the address. */
function checkedAddr(st: RunState, pc: number, R: Int32Array, reg: number, off: number, size: number, write: boolean): number {
  const a = (R[reg]! >>> 0) + off;
  if (R[reg + 1] === 0 && (write ? a >= st.wLo && a + size <= st.wHi : a >= st.rLo && a + size <= st.rHi)) return a;
  return resolveAccess(st, pc, R[reg]!, R[reg + 1]!, off, size, write);
}

// ---------------------------------------------------------------------------
// Arithmetic

/** High 32 bits of the 64-bit product of two unsigned 32-bit values. */
function mulhiu(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a0 * b0;
  const m1 = a1 * b0 + (t >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16)) | 0;
}

/** dst *= (bh:bl), modulo 2^64. */
export function mul64(R: Int32Array, d: number, bl: number, bh: number): void {
  const al = R[d]!;
  const ah = R[d + 1]!;
  R[d + 1] = (mulhiu(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  R[d] = Math.imul(al, bl);
}

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function setBig(R: Int32Array, d: number, v: bigint): void {
  R[d] = Number(BigInt.asIntN(32, v));
  R[d + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

function setNum(R: Int32Array, d: number, q: number): void {
  // q is an integer with |q| < 2^53: split into two's complement words.
  R[d] = q % TWO32 | 0;
  R[d + 1] = Math.floor(q / TWO32) | 0;
}

/**
 * Unsigned 64-bit divide or modulo (RFC 9669 4.1): division by zero gives 0,
 * modulo by zero leaves dst unchanged. Operands below 2^53 are divided exactly
 * in doubles (a quotient of integers below 2^53 cannot round across an
 * integer); larger ones fall back to BigInt.
 */
export function udivmod64(R: Int32Array, d: number, bl: number, bh: number, mod: boolean): void {
  if (bl === 0 && bh === 0) {
    if (!mod) R[d] = R[d + 1] = 0;
    return;
  }
  const al = R[d]! >>> 0;
  const ah = R[d + 1]! >>> 0;
  const bhu = bh >>> 0;
  if (ah < 0x200000 && bhu < 0x200000) {
    const a = ah * TWO32 + al;
    const b = bhu * TWO32 + (bl >>> 0);
    setNum(R, d, mod ? a % b : Math.floor(a / b));
    return;
  }
  const a = toBig(al, ah);
  const b = toBig(bl, bh);
  setBig(R, d, mod ? a % b : a / b);
}

/**
 * Signed 64-bit divide or modulo (v4, off = 1): truncating, the remainder has
 * the dividend's sign; by zero: 0 / dst unchanged; INT64_MIN / -1 does not
 * trap: the quotient is INT64_MIN and the remainder 0 (as the kernel's
 * interpreter and JITs produce).
 */
export function sdivmod64(R: Int32Array, d: number, bl: number, bh: number, mod: boolean): void {
  if (bl === 0 && bh === 0) {
    if (!mod) R[d] = R[d + 1] = 0;
    return;
  }
  const ah = R[d + 1]!;
  if (ah >= -0x200000 && ah < 0x200000 && bh >= -0x200000 && bh < 0x200000) {
    const a = ah * TWO32 + (R[d]! >>> 0);
    const b = bh * TWO32 + (bl >>> 0);
    setNum(R, d, mod ? a % b : Math.trunc(a / b));
    return;
  }
  const a = BigInt.asIntN(64, toBig(R[d]!, ah));
  const b = BigInt.asIntN(64, toBig(bl, bh));
  // BigInt has no overflow: INT64_MIN / -1 = 2^63, which wraps back to INT64_MIN.
  setBig(R, d, mod ? a % b : a / b);
}

// ---------------------------------------------------------------------------
// Atomics (RFC 9669 5.3) and Linux's load-acquire / store-release

export function atomic(st: RunState, act: Activation, pc: number): void {
  const R = act.R;
  const prog = act.prog;
  const ins = prog.insns[pc]!;
  const d = prog.dst[pc]!;
  const s = prog.src[pc]!;
  const off = prog.off[pc]!;
  const imm = prog.imm[pc]!;
  const size = op.sizeBytes(op.sizeOf(ins.code));
  const dv = st.dv;
  if (imm === op.BPF_LOAD_ACQ) {
    // dst = *(size *)(src + off), zero-extended
    const a = checkedAddr(st, pc, R, s, off, size, false);
    if (size === 8) {
      R[d] = dv.getInt32(a, true);
      R[d + 1] = dv.getInt32(a + 4, true);
    } else {
      R[d] = size === 4 ? dv.getInt32(a, true) : size === 2 ? dv.getUint16(a, true) : dv.getUint8(a);
      R[d + 1] = 0;
    }
    return;
  }
  if (imm === op.BPF_STORE_REL) {
    const a = checkedAddr(st, pc, R, d, off, size, true);
    if (size === 8) {
      dv.setInt32(a, R[s]!, true);
      dv.setInt32(a + 4, R[s + 1]!, true);
    } else if (size === 4) dv.setInt32(a, R[s]!, true);
    else if (size === 2) dv.setInt16(a, R[s]!, true);
    else dv.setInt8(a, R[s]!);
    return;
  }
  const a = checkedAddr(st, pc, R, d, off, size, true);
  if ((imm & ~op.BPF_FETCH) === op.BPF_ADD && !st.space.shared && (size === 8 || size === 4)) {
    // The common counter update (__sync_fetch_and_add). A non-shared memory
    // has no other thread: a plain read-modify-write is atomic, and 32-bit
    // halves with a carry spare the BigInt and typed-array allocations.
    const lo = dv.getInt32(a, true);
    if (size === 4) {
      dv.setInt32(a, (lo + R[s]!) | 0, true);
      if (imm & op.BPF_FETCH) {
        R[s] = lo;
        R[s + 1] = 0;
      }
      return;
    }
    const hi = dv.getInt32(a + 4, true);
    const sumLo = (lo >>> 0) + (R[s]! >>> 0);
    const carry = sumLo > 0xffffffff ? 1 : 0;
    const nhi = (hi + R[s + 1]! + carry) | 0;
    dv.setInt32(a, sumLo | 0, true);
    dv.setInt32(a + 4, nhi, true);
    if (imm & op.BPF_FETCH) {
      R[s] = lo;
      R[s + 1] = hi;
    }
    return;
  }
  // Programs running on several workers over a shared memory need real atomics;
  // Atomics.* require natural alignment (the verifier requires it too). An
  // unverified misaligned access gets the same result without atomicity.
  const aligned = a % size === 0;
  if (size === 4) {
    const v = R[s]!;
    const i32 = aligned ? new Int32Array(st.buf, a, 1) : undefined;
    const rd = (): number => (i32 ? Atomics.load(i32, 0) : dv.getInt32(a, true));
    const wr = (x: number): void => {
      if (i32) Atomics.store(i32, 0, x);
      else dv.setInt32(a, x, true);
    };
    let old: number;
    switch (imm & ~op.BPF_FETCH) {
      case op.BPF_ADD:
        if (i32) old = Atomics.add(i32, 0, v);
        else wr(((old = rd()) + v) | 0);
        break;
      case op.BPF_OR:
        if (i32) old = Atomics.or(i32, 0, v);
        else wr((old = rd()) | v);
        break;
      case op.BPF_AND:
        if (i32) old = Atomics.and(i32, 0, v);
        else wr((old = rd()) & v);
        break;
      case op.BPF_XOR:
        if (i32) old = Atomics.xor(i32, 0, v);
        else wr((old = rd()) ^ v);
        break;
      case op.BPF_XCHG & ~op.BPF_FETCH:
        if (i32) old = Atomics.exchange(i32, 0, v);
        else {
          old = rd();
          wr(v);
        }
        break;
      case op.BPF_CMPXCHG & ~op.BPF_FETCH: {
        // Compare with the low 32 bits of r0; r0 gets the old value, zero-extended.
        const expect = R[0]!;
        if (i32) old = Atomics.compareExchange(i32, 0, expect, v);
        else {
          old = rd();
          if (old === expect) wr(v);
        }
        R[0] = old;
        R[1] = 0;
        return;
      }
      default:
        throw new UnsupportedInsn(pc, `invalid atomic operation 0x${imm.toString(16)}`);
    }
    if (imm & op.BPF_FETCH) {
      R[s] = old;
      R[s + 1] = 0;
    }
    return;
  }
  // 64-bit
  const v = toBig(R[s]!, R[s + 1]!);
  const i64 = aligned ? new BigInt64Array(st.buf, a, 1) : undefined;
  const rd = (): bigint => (i64 ? Atomics.load(i64, 0) : dv.getBigInt64(a, true));
  const wr = (x: bigint): void => {
    if (i64) Atomics.store(i64, 0, BigInt.asIntN(64, x));
    else dv.setBigInt64(a, BigInt.asIntN(64, x), true);
  };
  const sv = BigInt.asIntN(64, v);
  let old: bigint;
  switch (imm & ~op.BPF_FETCH) {
    case op.BPF_ADD:
      if (i64) old = Atomics.add(i64, 0, sv);
      else wr((old = rd()) + sv);
      break;
    case op.BPF_OR:
      if (i64) old = Atomics.or(i64, 0, sv);
      else wr((old = rd()) | sv);
      break;
    case op.BPF_AND:
      if (i64) old = Atomics.and(i64, 0, sv);
      else wr((old = rd()) & sv);
      break;
    case op.BPF_XOR:
      if (i64) old = Atomics.xor(i64, 0, sv);
      else wr((old = rd()) ^ sv);
      break;
    case op.BPF_XCHG & ~op.BPF_FETCH:
      if (i64) old = Atomics.exchange(i64, 0, sv);
      else {
        old = rd();
        wr(sv);
      }
      break;
    case op.BPF_CMPXCHG & ~op.BPF_FETCH: {
      const expect = BigInt.asIntN(64, toBig(R[0]!, R[1]!));
      if (i64) old = Atomics.compareExchange(i64, 0, expect, sv);
      else {
        old = rd();
        if (old === expect) wr(sv);
      }
      setBig(R, 0, old);
      return;
    }
    default:
      throw new UnsupportedInsn(pc, `invalid atomic operation 0x${imm.toString(16)}`);
  }
  if (imm & op.BPF_FETCH) setBig(R, s, old);
}

// ---------------------------------------------------------------------------
// Calls

export function regU64(R: Int32Array, i: number): bigint {
  const hi = R[i + 1]!;
  const lo = R[i]! >>> 0;
  return hi === 0 ? BigInt(lo) : (BigInt(hi >>> 0) << 32n) | BigInt(lo);
}

/** Do r1..rN (high words at R[3], R[5], ...) all fit in 32 bits? */
function argsFit32(R: Int32Array, n: number): boolean {
  for (let r = 1; r <= n; r++) if (R[2 * r + 1] !== 0) return false;
  return true;
}

/** Call helper `id` with r1..r5; r0 receives its result. */
export function callHelper(st: RunState, act: Activation, id: number, pc: number): void {
  // The running program's registry (after a tail call: the target's).
  const def = act.exe.image.helpers.get(id);
  if (def === undefined) throw new UnknownHelper(pc, id);
  const R = act.R;
  let r: bigint;
  const prev = st.cur;
  try {
    const fn32 = def.fn32;
    if (fn32 !== undefined && argsFit32(R, def.proto.args.length)) {
      // The helper's 32-bit form (every verified call's pointers and sizes fit): no BigInt conversions.
      const v = fn32(st.env, R[2]! >>> 0, R[4]! >>> 0, R[6]! >>> 0, R[8]! >>> 0, R[10]! >>> 0) | 0;
      R[0] = v;
      R[1] = v < 0 && fn32Signed(def) ? -1 : 0;
      return;
    }
    r = def.fn(st.env, regU64(R, 2), regU64(R, 4), regU64(R, 6), regU64(R, 8), regU64(R, 10));
  } catch (e) {
    if (e instanceof ExecError) throw e; // a fault inside a callback: already typed
    throw new HelperError(pc, id, def.name, e);
  } finally {
    st.cur = prev;
    st.refreshViews();
  }
  if (typeof r !== 'bigint') {
    if (typeof r === 'number' && Number.isInteger(r)) r = BigInt(r);
    else throw new HelperError(pc, id, def.name, new TypeError(`returned ${typeof r}, not a bigint`));
  }
  R[0] = Number(BigInt.asIntN(32, r));
  R[1] = Number(BigInt.asIntN(32, r >> 32n));
}

/** Status codes of the dispatch loop. */
export const EXIT = 0;
export const STOP = 1;
export const BREAK = 2;

export type ExecFn = (st: RunState, act: Activation) => number;

/**
 * ExecEnv.callFunc: run the bpf function at `insnIndex` of the running
 * program as a callback (bpf_loop, bpf_for_each_map_elem, ...), in a fresh
 * frame one deeper than the caller's, sharing the run's frame limit, budget
 * and tail-call count.
 */
export function callFunc(st: RunState, exec: ExecFn, insnIndex: number, args: readonly bigint[]): bigint {
  const outer = st.cur;
  if (outer === undefined) throw new UnsupportedInsn(-1, 'callFunc outside a running program');
  const prog = outer.prog.clean ?? outer.prog;
  if (!Number.isInteger(insnIndex) || insnIndex < 0 || insnIndex >= prog.n || prog.op[insnIndex] === I_INVALID)
    throw new UnsupportedInsn(outer.pc, `callback target ${insnIndex} is not an instruction of ${st.image.name}`);
  const depth = outer.depth + 1;
  if (depth >= op.MAX_CALL_FRAMES) throw new CallDepthExceeded(outer.pc, depth + 1);
  const R = new Int32Array(REG_WORDS);
  for (let i = 0; i < 5 && i < args.length; i++) {
    const v = BigInt.asUintN(64, args[i]!);
    R[2 + 2 * i] = Number(BigInt.asIntN(32, v));
    R[3 + 2 * i] = Number(BigInt.asIntN(32, v >> 32n));
  }
  R[20] = st.stackTop(depth);
  const act = new Activation(prog, outer.exe, R, depth, insnIndex, false);
  const outerLeft = st.left;
  st.cur = act;
  try {
    exec(st, act);
  } finally {
    st.cur = outer;
  }
  // The callback may have drawn on the reserve; hand back what exceeds the
  // caller's share, so a debugger step that called a helper still stops.
  if (st.left > outerLeft) {
    st.reserve += st.left - outerLeft;
    st.left = outerLeft;
  }
  return regU64(R, 0);
}

/**
 * bpf_tail_call(ctx, prog_array, index): resolve the target. Returns the
 * target, or undefined when the call fails (empty slot, index out of range,
 * more than MAX_TAIL_CALL_CNT = 33 tail calls in this run); the kernel then
 * continues with the next instruction.
 */
export function tailCallTarget(st: RunState, act: Activation): Executable | undefined {
  const R = act.R;
  const resolve = act.exe.image.tailCallTarget;
  if (resolve === undefined) return undefined;
  if (R[5] !== 0) return undefined; // the map pointer is a 32-bit address
  const mapAddr = R[4]! >>> 0;
  const index = R[6]! >>> 0; // the kernel compares the index as u32
  if (st.tailCalls >= op.MAX_TAIL_CALL_CNT) return undefined;
  const target = resolve(mapAddr, index);
  if (target === undefined) return undefined;
  st.tailCalls++;
  return target;
}

export function isInterpTarget(e: Executable): e is InterpTarget {
  return (e as Partial<InterpTarget>).decoded !== undefined;
}

/** Run a tail-call target of another engine to completion; r0 gets its result. */
export function runForeign(st: RunState, act: Activation, target: Executable, pc: number): void {
  const left = st.left + st.reserve;
  let r: bigint;
  try {
    r = target.run({ args: [regU64(act.R, 2)], cpu: st.cpu, run: st.runArg, budget: left, tailCalls: st.tailCalls });
  } catch (e) {
    if (e instanceof BudgetExceeded) throw new BudgetExceeded(pc, st.budget);
    throw e;
  } finally {
    st.refreshViews();
  }
  setBig(act.R, 0, r);
}

// ---------------------------------------------------------------------------
// Legacy packet access (RFC 9669 5.5: LD_ABS / LD_IND)

/**
 * Where the packet of the legacy LD_ABS/LD_IND instructions is. A runtime
 * that runs socket filters puts an object with `legacyPacket` in RunArgs.run;
 * without one (raw programs), the packet is the memory r6 points at, up to
 * the end of the region containing it.
 */
export interface LegacyPacketSource {
  legacyPacket(ctx: bigint): { data: number; len: number } | undefined;
}

function packetOf(st: RunState, R: Int32Array): { data: number; len: number } | undefined {
  const hook = st.runArg as Partial<LegacyPacketSource> | undefined;
  if (hook && typeof hook.legacyPacket === 'function') return hook.legacyPacket(regU64(R, 12));
  if (R[13] !== 0) return undefined;
  const data = R[12]! >>> 0;
  const r = st.space.regionOf(data, 1);
  if (r === undefined) return undefined;
  return { data, len: r.base + r.size - data };
}

/**
 * r0 = ntoh(*(size *)(packet + imm [+ src])). Returns false when the load is
 * out of bounds: the program then exits with r0 = 0, as the kernel's
 * ld_abs/ld_ind do. (The kernel's negative SKF_NET_OFF/SKF_LL_OFF offsets
 * are not modelled: they fail like any out-of-bounds offset.)
 */
export function ldPacket(st: RunState, act: Activation, pc: number): boolean {
  const R = act.R;
  const ins = act.prog.insns[pc]!;
  const size = op.sizeBytes(op.sizeOf(ins.code));
  let offset = ins.imm;
  if (op.modeOf(ins.code) === op.BPF_IND) offset = (R[act.prog.src[pc]!]! + offset) | 0;
  const pkt = packetOf(st, R);
  if (pkt === undefined || offset < 0 || offset + size > pkt.len) return false;
  const a = pkt.data + offset;
  if (a + size > st.buf.byteLength) return false;
  const dv = st.dv;
  R[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a);
  R[1] = 0;
  return true;
}
