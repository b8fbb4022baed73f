/**
 * The module's exported entries around function 0 (the program): `run`,
 * `runctx` and `repeat` (compile.ts's header gives their signatures). They
 * set the per-run globals from parameters, which costs nothing, where
 * setting WebAssembly.Global objects from JS costs a call into the engine each.
 */
import type { CompileOptions } from './compile.js';
import { fuelGlobal, G_CPU, G_SP, G_TAIL } from './layout.js';
import { FuncBody, I32, I64, ModuleBuilder, Op, type ValType } from './wasm.js';

/**
 * Declare, export and write the entries; their bodies follow the `first`
 * declared functions (the program's). Returns whether `repeat` is there.
 */
export function runEntries(m: ModuleBuilder, opts: CompileOptions, first: number, f0: number, mayTail0: boolean): boolean {
  // run(r1..r5, sp, cpu): the per-run entry. Setting the globals here rather
  // than through WebAssembly.Global objects from JS saves a JS->C++ call each.
  // The deadline variant's entries take the first slice of fuel as one more parameter
  // (a parameter costs nothing, where setting the global from JS costs a call into the engine).
  const fuelParam: ValType[] = opts.fuel ? [I32] : [];
  const runIdx = m.declareFunc(m.type([I64, I64, I64, I64, I64, I32, I32, ...fuelParam], [I64]));
  m.exportFunc('run', runIdx);
  {
    const b = new FuncBody([], 32);
    b.localGet(5);
    b.globalSet(G_SP);
    b.localGet(6);
    b.globalSet(G_CPU);
    if (opts.fuel) {
      b.localGet(7);
      b.globalSet(fuelGlobal(opts));
    }
    b.i32Const(0);
    b.globalSet(G_TAIL);
    for (let r = 0; r < 5; r++) b.localGet(r);
    b.call(f0);
    b.end();
    m.setBody(first, b);
  }
  // runctx(ctx i32, sp i32, cpu i32) -> i32: run with r1 = ctx (zero-extended), r2..r5 = 0,
  // returning r0's low 32 bits. The hooks' entry (engine.ts runCtx): a JS caller passes and
  // gets plain numbers, where run's i64 parameters and result cost a BigInt conversion each.
  const runCtxIdx = m.declareFunc(m.type([I32, I32, I32, ...fuelParam], [I32]));
  m.exportFunc('runctx', runCtxIdx);
  {
    const b = new FuncBody([], 32);
    b.localGet(1);
    b.globalSet(G_SP);
    b.localGet(2);
    b.globalSet(G_CPU);
    if (opts.fuel) {
      b.localGet(3);
      b.globalSet(fuelGlobal(opts));
    }
    b.i32Const(0);
    b.globalSet(G_TAIL);
    b.localGet(0);
    b.op(Op.i64_extend_i32_u);
    for (let r = 1; r < 5; r++) b.i64Const32(0);
    b.call(f0);
    b.op(Op.i32_wrap_i64);
    b.end();
    m.setBody(first + 1, b);
  }
  // repeat(ctx i32, sp i32, cpu i32, n i32) -> i32: runctx n (>= 1) times in a loop that
  // stays in WebAssembly, r0's low 32 bits of the last run: BPF_PROG_TEST_RUN's repeat
  // (the kernel's bpf_test_run loop) without a JS call per run. Only in the plain variant
  // (budget and deadline runs are charged per run in JS) and when the program cannot take a
  // tail call (that one returns to engine.ts's trampoline after every run).
  let hasRepeat = false;
  if (!opts.budget && !opts.fuel && !mayTail0) {
    hasRepeat = true;
    const idx = m.declareFunc(m.type([I32, I32, I32, I32], [I32]));
    m.exportFunc('repeat', idx);
    const b = new FuncBody([[1, I32]], 48);
    b.localGet(1);
    b.globalSet(G_SP);
    b.localGet(2);
    b.globalSet(G_CPU);
    b.i32Const(0);
    b.globalSet(G_TAIL);
    b.blockStart(Op.loop);
    b.localGet(0);
    b.op(Op.i64_extend_i32_u);
    for (let r = 1; r < 5; r++) b.i64Const32(0);
    b.call(f0);
    b.op(Op.i32_wrap_i64);
    b.localSet(4);
    b.localGet(3);
    b.i32Const(1);
    b.op(Op.i32_sub);
    b.localTee(3);
    b.brIf(0);
    b.end();
    b.localGet(4);
    b.end();
    m.setBody(first + 2, b);
  }

  return hasRepeat;
}
