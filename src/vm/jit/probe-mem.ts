/**
 * BPF_PROBE_MEM in the JIT (memory/probe-mem.ts says what and why): one function
 * per module checks an address against the space's probe-mem table and
 * gives back the address to load from, or 0 when the load must yield 0.
 * The load site then reads from that address (0 is inside the memory, so
 * the read never traps) and selects 0 when the check failed: branch-free
 * code after the call, as the kernel's JIT leaves the register zeroed by
 * its exception-table fixup (ex_handler_bpf).
 */
import { FuncBody, I32, I64, Op, type ModuleBuilder } from './wasm.js';
import { PROBE_TABLE_RANGES } from '../../memory/probe-mem.js';

/** Declare `probe(addr i64, size i64) -> i32` in `m`; returns its function index and declaration number. */
export function declareProbeFunc(m: ModuleBuilder): { index: number; decl: number } {
  const index = m.declareFunc(m.type([I64, I64], [I32]));
  return { index, decl: index - m.importedFuncCount };
}

/**
 * The body of the probe function over the table at `table`: the address
 * when [addr, addr + size) lies inside one [lo, hi) range (compared in 64
 * bits, so no wrap-around can pass), else 0. Ranges never start below the
 * NULL guard, so a readable address is never 0.
 */
export function probeFuncBody(table: number): FuncBody {
  const A = 0; // addr (i64 parameter)
  const S = 1; // size (i64 parameter)
  const P = 2; // the pair being compared (i32)
  const E = 3; // end of the pairs (i32)
  const b = new FuncBody([[2, I32]], 96);
  // an address above 4 GiB is in no range of a 32-bit space
  b.localGet(A);
  b.i64Const32(32);
  b.op(Op.i64_shr_u);
  b.op(Op.i64_eqz);
  b.op(Op.i32_eqz);
  b.blockStart(Op.if);
  b.i32Const(0);
  b.op(Op.return);
  b.end();
  b.i32Const((table + PROBE_TABLE_RANGES) | 0);
  b.localSet(P);
  b.i32Const(table | 0);
  b.mem(Op.i32_load, 2, 0);
  b.i32Const(3);
  b.op(Op.i32_shl);
  b.localGet(P);
  b.op(Op.i32_add);
  b.localSet(E);
  b.blockStart(Op.block);
  b.blockStart(Op.loop);
  b.localGet(P);
  b.localGet(E);
  b.op(Op.i32_ge_u);
  b.brIf(1);
  // lo <= addr
  b.localGet(A);
  b.localGet(P);
  b.mem(Op.i32_load, 2, 0);
  b.op(Op.i64_extend_i32_u);
  b.op(Op.i64_ge_u);
  // addr + size <= hi
  b.localGet(A);
  b.localGet(S);
  b.op(Op.i64_add);
  b.localGet(P);
  b.mem(Op.i32_load, 2, 4);
  b.op(Op.i64_extend_i32_u);
  b.op(Op.i64_le_u);
  b.op(Op.i32_and);
  b.blockStart(Op.if);
  b.localGet(A);
  b.op(Op.i32_wrap_i64);
  b.op(Op.return);
  b.end();
  b.localGet(P);
  b.i32Const(8);
  b.op(Op.i32_add);
  b.localSet(P);
  b.br(0);
  b.end();
  b.end();
  b.i32Const(0);
  b.end();
  return b;
}

/**
 * A load site: the i32 address to load `size` bytes from [reg + off], or 0,
 * into `t32`. The first range of the table is checked inline (a kit's model
 * is one arena until it grows, so this is almost always the hit); the
 * probe function scans the table otherwise. `t64` is a scratch i64 local.
 */
export function probeAddress(b: FuncBody, reg: number, off: number, size: number, table: number, probeFunc: number, t64: number, t32: number): void {
  b.localGet(reg);
  b.i64Const32(off);
  b.op(Op.i64_add);
  b.localTee(t64);
  b.i32Const(0);
  b.mem(Op.i32_load, 2, (table + PROBE_TABLE_RANGES) >>> 0);
  b.op(Op.i64_extend_i32_u);
  b.op(Op.i64_ge_u);
  b.localGet(t64);
  b.i64Const32(size);
  b.op(Op.i64_add);
  b.i32Const(0);
  b.mem(Op.i32_load, 2, (table + PROBE_TABLE_RANGES + 4) >>> 0);
  b.op(Op.i64_extend_i32_u);
  b.op(Op.i64_le_u);
  b.op(Op.i32_and);
  b.blockStart(Op.if);
  b.localGet(t64);
  b.op(Op.i32_wrap_i64);
  b.localSet(t32);
  b.op(Op.else);
  b.localGet(t64);
  b.i64Const32(size);
  b.call(probeFunc);
  b.localSet(t32);
  b.end();
}

/**
 * After probeAddress: load with `load` (an i64 load op) from `t32` and keep
 * the value only when the address is not 0 (address 0 is inside the memory,
 * so the load never traps). Leaves the i64 result.
 */
export function probeLoadTail(b: FuncBody, load: number, alignLog2: number, t32: number): void {
  b.localGet(t32);
  b.mem(load, alignLog2, 0);
  b.i64Const32(0);
  b.localGet(t32);
  b.op(Op.select);
}
