/**
 * Memory access emission: loads, stores, atomics and the legacy packet
 * loads, each at an i32 address into the program's memory (the address
 * space). The plain variant relies on WebAssembly's own bounds; the checked
 * variant checks every access against the space and faults naming the pc.
 */
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import { NULL_GUARD } from '../../memory/address-space.js';
import type { FunctionCompiler } from './function-compiler.js';
import { FaultKind, L_ADDR, L_BASE, L_R0, L_T32, L_T64, L_T64B, REG } from './layout.js';
import { probeAddress, probeLoadTail } from './probe-mem.js';
import { Service } from './runtime-imports.js';
import { Atomic, Op } from './wasm.js';

const LOAD: Record<number, [number, number]> = {
  // size -> [zero-extending load, sign-extending load (MEMSX)]
  [op.BPF_B]: [Op.i64_load8_u, Op.i64_load8_s],
  [op.BPF_H]: [Op.i64_load16_u, Op.i64_load16_s],
  [op.BPF_W]: [Op.i64_load32_u, Op.i64_load32_s],
  [op.BPF_DW]: [Op.i64_load, Op.i64_load],
};
const STORE: Record<number, number> = {
  [op.BPF_B]: Op.i64_store8,
  [op.BPF_H]: Op.i64_store16,
  [op.BPF_W]: Op.i64_store32,
  [op.BPF_DW]: Op.i64_store,
};
const ATOMIC_LOAD: Record<number, number> = {
  [op.BPF_B]: Atomic.i64_load8_u,
  [op.BPF_H]: Atomic.i64_load16_u,
  [op.BPF_W]: Atomic.i64_load32_u,
  [op.BPF_DW]: Atomic.i64_load,
};
const ATOMIC_STORE: Record<number, number> = {
  [op.BPF_B]: Atomic.i64_store8,
  [op.BPF_H]: Atomic.i64_store16,
  [op.BPF_W]: Atomic.i64_store32,
  [op.BPF_DW]: Atomic.i64_store,
};
const ALIGN: Record<number, number> = { [op.BPF_B]: 0, [op.BPF_H]: 1, [op.BPF_W]: 2, [op.BPF_DW]: 3 };

/** BPF_LDX (RFC 9669 5.1), with MEMSX's sign extension and BPF_PROBE_MEM's checked kernel reads. */
export function load(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const size = op.sizeOf(ins.code);
  const signExtend = op.modeOf(ins.code) === op.BPF_MEMSX ? 1 : 0;
  if (fc.probeFunc !== undefined && fc.opts.aux?.[pc]?.probeMem) {
    // BPF_PROBE_MEM: read only inside kernel memory, 0 elsewhere (never a fault)
    probeAddress(c, REG[ins.src]!, ins.off, op.sizeBytes(size), fc.opts.probeTable!, fc.probeFunc, L_T64B, L_T32);
    probeLoadTail(c, LOAD[size]![signExtend]!, ALIGN[size]!, L_T32);
    c.localSet(REG[ins.dst]!);
    return;
  }
  const off = addr(fc, ins.src, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
  c.mem(LOAD[size]![signExtend]!, ALIGN[size]!, off);
  c.localSet(REG[ins.dst]!);
}

/** BPF_ST (an immediate) and BPF_STX (a register) stores (RFC 9669 5.1); BPF_ATOMIC goes to {@link atomic}. */
export function store(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  if (op.classOf(ins.code) === op.BPF_ST) {
    const size = op.sizeOf(ins.code);
    const off = addr(fc, ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
    c.i64Const32(ins.imm);
    c.mem(STORE[size]!, ALIGN[size]!, off);
    return;
  }
  if (op.modeOf(ins.code) === op.BPF_ATOMIC) return atomic(fc, ins, pc);
  const size = op.sizeOf(ins.code);
  const off = addr(fc, ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
  c.localGet(REG[ins.src]!);
  c.mem(STORE[size]!, ALIGN[size]!, off);
}

/**
 * Push the i32 address of [reg + off] and return the memarg offset to use
 * with it. Verified programs need nothing more: WebAssembly's bounds
 * (guard pages, no code) keep even a verifier bug inside the space. The
 * checked variant (unverified programs) also computes the full 64-bit
 * address and faults, naming the instruction, unless the access lies
 * inside the space and above the NULL guard page.
 */
export function addr(fc: FunctionCompiler, reg: number, off: number, pc: number, size: number): number {
  const c = fc.c;
  if (fc.opts.budget) {
    c.localGet(REG[reg]!);
    c.i64Const32(off);
    c.op(Op.i64_add);
    c.localTee(L_T64B);
    // (addr - NULL_GUARD) >u (memory bytes - NULL_GUARD - size): below the guard or past the end
    c.i64Const32(NULL_GUARD);
    c.op(Op.i64_sub);
    c.u8(Op.memory_size);
    c.u8(0);
    c.op(Op.i64_extend_i32_u);
    c.i64Const32(16);
    c.op(Op.i64_shl);
    c.i64Const32(NULL_GUARD + size);
    c.op(Op.i64_sub);
    c.op(Op.i64_gt_u);
    c.blockStart(Op.if);
    c.i32Const(FaultKind.Memory);
    c.i32Const(pc);
    c.localGet(L_T64B);
    c.call(fc.runtime.func(Service.Fault, pc));
    c.op(Op.unreachable);
    c.end();
    c.localGet(L_T64B);
    c.op(Op.i32_wrap_i64);
    return 0;
  }
  const sum = fc.sums.sumOf(reg);
  // The frame pointer (r10, read-only in a verified program) or a sum of it and a constant:
  // the frame's base local and a non-negative memarg offset, 2 bytes and one operation
  // instead of wrap, const and add (at ~1 stack access in 7 instructions, a tenth of the code).
  const fpOff = reg === 10 ? off : sum && sum.regs.length === 1 && sum.regs[0] === 10 ? sum.imm + off : undefined;
  if (fpOff !== undefined && fpOff + fc.opts.stackSize >= 0) {
    c.localGet(L_BASE);
    return fpOff + fc.opts.stackSize;
  }
  if (sum) {
    // the same address as wrap(reg), summed in i32 (address-sum.ts)
    c.localGet(REG[sum.regs[0]!]!);
    c.op(Op.i32_wrap_i64);
    if (sum.regs.length > 1) {
      c.localGet(REG[sum.regs[1]!]!);
      c.op(Op.i32_wrap_i64);
      c.op(Op.i32_add);
    }
    if (sum.imm !== 0) {
      c.i32Const(sum.imm);
      c.op(Op.i32_add);
    }
  } else {
    c.localGet(REG[reg]!);
    c.op(Op.i32_wrap_i64);
  }
  if (off >= 0) return off;
  c.i32Const(off);
  c.op(Op.i32_add);
  return 0;
}

/**
 * Legacy LD_ABS/LD_IND (RFC 9669 5.5): r0 = ntoh(packet[imm (+ src)]),
 * the packet being found from r6 by the run-time (e.ldpkt, which returns
 * -1 when the load is out of bounds). An out-of-bounds load ends the
 * function it is in with r0 = 0, as the kernel's JIT does: in the main
 * program that ends the run; in a bpf-to-bpf function (allowed since
 * Linux 5.x where the function has BTF and returns int) the caller goes on.
 */
export function ldPacket(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  c.i32Const(pc);
  c.localGet(REG[6]!);
  if (op.modeOf(ins.code) === op.BPF_IND) {
    c.localGet(REG[ins.src]!);
    c.op(Op.i32_wrap_i64);
    c.i32Const(ins.imm);
    c.op(Op.i32_add);
  } else c.i32Const(ins.imm);
  c.i32Const(op.sizeBytes(op.sizeOf(ins.code)));
  c.call(fc.runtime.func(Service.Ldpkt, pc));
  c.localTee(L_T64);
  c.i64Const32(0);
  c.op(Op.i64_lt_s);
  c.blockStart(Op.if);
  c.i64Const32(0);
  c.localSet(L_R0);
  fc.ret(L_R0);
  c.end();
  c.localGet(L_T64);
  c.localSet(L_R0);
}

/**
 * BPF_ATOMIC (RFC 9669 5.3) and Linux's load-acquire/store-release. On a
 * shared memory these are WebAssembly atomics (sequentially consistent,
 * stronger than the kernel needs); on an unshared one only this thread can
 * see the memory, so a plain load/op/store is indistinguishable.
 */
export function atomic(fc: FunctionCompiler, ins: Insn, pc: number): void {
  const c = fc.c;
  const size = op.sizeOf(ins.code);
  const shared = fc.opts.shared;
  const s = REG[ins.src]!;
  const align = ALIGN[size]!;
  if (ins.imm === op.BPF_LOAD_ACQ) {
    const off = addr(fc, ins.src, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
    if (shared) c.atomic(ATOMIC_LOAD[size]!, align, off);
    else c.mem(LOAD[size]![0]!, align, off);
    c.localSet(REG[ins.dst]!);
    return;
  }
  if (ins.imm === op.BPF_STORE_REL) {
    const off = addr(fc, ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
    c.localGet(s);
    if (shared) c.atomic(ATOMIC_STORE[size]!, align, off);
    else c.mem(STORE[size]!, align, off);
    return;
  }
  const dw = size === op.BPF_DW;
  const aop = ins.imm & ~op.BPF_FETCH;
  const fetch = (ins.imm & op.BPF_FETCH) !== 0;
  if (shared) {
    const base =
      ins.imm === op.BPF_CMPXCHG ? Atomic.rmw_cmpxchg
      : ins.imm === op.BPF_XCHG ? Atomic.rmw_xchg
      : aop === op.BPF_ADD ? Atomic.rmw_add
      : aop === op.BPF_AND ? Atomic.rmw_and
      : aop === op.BPF_OR ? Atomic.rmw_or
      : Atomic.rmw_xor;
    // i64.atomic.rmw.* is base+1; i64.atomic.rmw32.*_u (zero-extending the old value) is base+6.
    const sub = base + (dw ? 1 : 6);
    const off = addr(fc, ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
    if (ins.imm === op.BPF_CMPXCHG) {
      c.localGet(L_R0);
      c.localGet(s);
      c.atomic(sub, align, off);
      c.localSet(L_R0);
      return;
    }
    c.localGet(s);
    c.atomic(sub, align, off);
    if (fetch) c.localSet(s);
    else c.op(Op.drop);
    return;
  }
  const ld = dw ? Op.i64_load : Op.i64_load32_u;
  const st = dw ? Op.i64_store : Op.i64_store32;
  const off = addr(fc, ins.dst, ins.off, pc, op.sizeBytes(op.sizeOf(ins.code)));
  c.localSet(L_ADDR);
  // old value -> t64
  c.localGet(L_ADDR);
  c.mem(ld, align, off);
  c.localSet(L_T64);
  if (ins.imm === op.BPF_CMPXCHG) {
    c.localGet(L_T64);
    c.localGet(L_R0);
    if (!dw) {
      c.op(Op.i32_wrap_i64);
      c.localSet(L_T32);
      c.op(Op.i32_wrap_i64);
      c.localGet(L_T32);
      c.op(Op.i32_eq);
    } else c.op(Op.i64_eq);
    c.blockStart(Op.if);
    c.localGet(L_ADDR);
    c.localGet(s);
    c.mem(st, align, off);
    c.end();
    c.localGet(L_T64);
    c.localSet(L_R0);
    return;
  }
  c.localGet(L_ADDR);
  if (ins.imm === op.BPF_XCHG) c.localGet(s);
  else {
    c.localGet(L_T64);
    c.localGet(s);
    c.op(aop === op.BPF_ADD ? Op.i64_add : aop === op.BPF_AND ? Op.i64_and : aop === op.BPF_OR ? Op.i64_or : Op.i64_xor);
  }
  c.mem(st, align, off);
  if (fetch) {
    c.localGet(L_T64);
    c.localSet(s);
  }
}
