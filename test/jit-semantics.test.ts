/**
 * The JIT's edge cases: division and shift corners against a BigInt model of
 * RFC 9669, atomics on shared and unshared memory, call frames and their
 * limit, irreducible and deeply nested control flow, tail calls, callbacks,
 * budgets and faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm/index.js';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import * as op from '../src/isa/opcodes.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry, type HelperDef } from '../src/vm/helper-abi.js';
import { BudgetExceeded, CallDepthExceeded, HelperError, UnknownHelper, VmFault } from '../src/vm/fault.js';
import type { Executable, ProgramImage } from '../src/vm/engine.js';
import { JitEngine, JitExecutable, dumpJited, printWat } from '../src/vm/jit/index.js';
import { createMap, MapTable, type BpfMap } from '../src/maps/index.js';
import type { MapSpec } from '../src/object/spec.js';
import { blockLeaders, buildFunctionCfg } from '../src/vm/jit/cfg.js';
import { functionStarts } from '../src/isa/control-flow.js';
import { structure } from '../src/vm/jit/structure.js';

const space = new AddressSpace({ initialPages: 32 });
const sharedSpace = new AddressSpace({ initialPages: 32, maximumPages: 1024, shared: true });

const def = (id: number, name: string, fn: HelperDef['fn']): HelperDef => ({ id, name, proto: { ret: 'INTEGER', args: [] }, fn });

function image(insns: readonly Insn[], extra: Partial<ProgramImage> = {}): ProgramImage {
  return { name: 'test', insns, helpers: new HelperRegistry(), space, verified: true, ...extra };
}

function prep(src: string | readonly Insn[], extra: Partial<ProgramImage> = {}): JitExecutable {
  const insns = typeof src === 'string' ? assemble(src) : src;
  return new JitEngine().prepare(image(insns, extra));
}

function run(src: string | readonly Insn[], args: bigint[] = [], extra: Partial<ProgramImage> = {}): bigint {
  const exe = prep(src, extra);
  try {
    return exe.run({ args });
  } finally {
    exe.close();
  }
}

const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
/** BigInt division truncates toward zero, as C and RFC 9669's signed division do. */
function model(kind: 'div' | 'mod' | 'sdiv' | 'smod', is64: boolean, a: bigint, b: bigint): bigint {
  if (is64) {
    if (kind === 'div') return b === 0n ? 0n : u64(a) / u64(b);
    if (kind === 'mod') return b === 0n ? u64(a) : u64(a) % u64(b);
    if (kind === 'sdiv') return b === 0n ? 0n : u64(s64(a) / s64(b));
    return b === 0n ? u64(a) : u64(s64(a) % s64(b));
  }
  const x = u32(a);
  const y = u32(b);
  if (kind === 'div') return y === 0n ? 0n : x / y;
  if (kind === 'mod') return y === 0n ? x : x % y;
  if (kind === 'sdiv') return y === 0n ? 0n : u32(s32(x) / s32(y));
  return y === 0n ? x : u32(s32(x) % s32(y));
}

const CORNERS = [0n, 1n, 2n, 7n, M64, M64 - 6n, 1n << 63n, (1n << 63n) - 1n, 1n << 31n, M32, (1n << 32n) + 5n, 0x80000000ffffffffn, 0xdeadbeefcafebaben];

test('division and modulo: every corner, 32 and 64 bits, signed and unsigned, register and immediate', () => {
  const args = space.alloc(16);
  for (const kind of ['div', 'mod', 'sdiv', 'smod'] as const) {
    for (const is64 of [true, false]) {
      const o = kind === 'div' || kind === 'sdiv' ? op.BPF_DIV : op.BPF_MOD;
      const off = kind.startsWith('s') ? 1 : 0;
      const cls = is64 ? op.BPF_ALU64 : op.BPF_ALU;
      // r0 = *(u64 *)(r1 + 0) op *(u64 *)(r1 + 8)
      const load = [insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 0, 1, 0), insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 2, 1, 8)];
      const exeX = prep([...load, insn(cls | o | op.BPF_X, 0, 2, off), insn(op.OP_EXIT)]);
      for (const a of CORNERS) {
        space.writeU64(args, a);
        for (const b of CORNERS) {
          space.writeU64(args + 8, b);
          assert.equal(exeX.run({ args: [BigInt(args)] }), model(kind, is64, a, b), `${kind}${is64 ? 64 : 32} X ${a} ${b}`);
        }
      }
      exeX.close();
      for (const b of CORNERS) {
        // Immediates are signed 32-bit, sign-extended for 64-bit ops.
        const imm = Number(s32(b));
        const exeK = prep([load[0]!, insn(cls | o | op.BPF_K, 0, 0, off, imm), insn(op.OP_EXIT)]);
        const bk = is64 ? u64(BigInt(imm)) : u32(BigInt(imm));
        for (const a of CORNERS) {
          space.writeU64(args, a);
          assert.equal(exeK.run({ args: [BigInt(args)] }), model(kind, is64, a, bk), `${kind}${is64 ? 64 : 32} K ${a} ${imm}`);
        }
        exeK.close();
      }
    }
  }
  space.free(args);
});

test('the verifier-proven non-zero divisor drops the guard and keeps the result', () => {
  const insns = [...lddw(0, 100n), ...lddw(2, 7n), insn(op.BPF_ALU64 | op.BPF_DIV | op.BPF_X, 0, 2), insn(op.OP_EXIT)];
  const aux = [];
  aux[4] = { nonZeroDivisor: true };
  assert.equal(run(insns, [], { aux }), 14n);
});

test('shifts mask their count; arsh is arithmetic; 32-bit results zero-extend', () => {
  const v = 0x8000000000000001n;
  for (const cnt of [0n, 1n, 31n, 32n, 33n, 63n, 64n, 65n, 127n, M64]) {
    const mk = (cls: number, o: number): Insn[] => [...lddw(0, v), ...lddw(2, cnt), insn(cls | o | op.BPF_X, 0, 2), insn(op.OP_EXIT)];
    const c64 = cnt & 63n;
    const c32 = cnt & 31n;
    assert.equal(run(mk(op.BPF_ALU64, op.BPF_LSH)), u64(v << c64));
    assert.equal(run(mk(op.BPF_ALU64, op.BPF_RSH)), v >> c64);
    assert.equal(run(mk(op.BPF_ALU64, op.BPF_ARSH)), u64(s64(v) >> c64));
    assert.equal(run(mk(op.BPF_ALU, op.BPF_LSH)), u32(u32(v) << c32));
    assert.equal(run(mk(op.BPF_ALU, op.BPF_RSH)), u32(v) >> c32);
    assert.equal(run(mk(op.BPF_ALU, op.BPF_ARSH)), u32(s32(u32(v)) >> c32));
  }
  assert.equal(run('r0 = -1\nw0 += 0\nexit'), M32);
  assert.equal(run('r0 = -1\nw0 = -w0\nexit'), 1n);
});

test('movsx, sign-extending loads, byte swaps', () => {
  assert.equal(run('r1 = 0x80\nr0 = (s8)r1\nexit'), u64(-128n));
  assert.equal(run('r1 = 0x8000\nw0 = (s16)w1\nexit'), 0xffff8000n);
  assert.equal(run([...lddw(1, 0x1_8000_0000n), insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 0, 1, 32), insn(op.OP_EXIT)]), u64(-0x80000000n));
  assert.equal(run('r1 = 0xfe\n*(u8 *)(r10 -1) = r1\nr0 = *(s8 *)(r10 -1)\nexit'), M64 - 1n);
  const swaps: Array<[number, number, bigint]> = [
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, 16, 0x0807n],
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, 32, 0x08070605n],
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, 64, 0x0807060504030201n],
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, 16, 0x0708n],
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, 32, 0x05060708n],
    [op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, 64, 0x0102030405060708n],
    [op.BPF_ALU64 | op.BPF_END, 16, 0x0807n],
    [op.BPF_ALU64 | op.BPF_END, 32, 0x08070605n],
    [op.BPF_ALU64 | op.BPF_END, 64, 0x0807060504030201n],
  ];
  for (const [code, width, want] of swaps)
    assert.equal(run([...lddw(0, 0x0102030405060708n), insn(code, 0, 0, 0, width), insn(op.OP_EXIT)]), want, `${code} ${width}`);
});

test('atomics: every operation, 32 and 64 bits, on unshared and shared memory', () => {
  const ops: Array<[number, (m: bigint, s: bigint) => bigint]> = [
    [op.BPF_ADD, (m, s) => m + s],
    [op.BPF_OR, (m, s) => m | s],
    [op.BPF_AND, (m, s) => m & s],
    [op.BPF_XOR, (m, s) => m ^ s],
    [op.BPF_XCHG, (_m, s) => s],
  ];
  const mem0 = 0xf0f0f0f0_87654321n;
  const srcv = 0x0ff00ff0_fedcba98n;
  for (const sp of [space, sharedSpace]) {
    for (const dw of [true, false]) {
      const size = dw ? op.BPF_DW : op.BPF_W;
      const mask = dw ? M64 : M32;
      for (const [aop, f] of ops) {
        for (const fetch of aop === op.BPF_XCHG ? [true] : [false, true]) {
          const imm = aop === op.BPF_XCHG ? op.BPF_XCHG : aop | (fetch ? op.BPF_FETCH : 0);
          // *(r10-8) = mem0; atomic op with r1; r0 = fetched r1 or the memory.
          const prog = [
            ...lddw(2, mem0),
            insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 10, 2, -8),
            ...lddw(1, srcv),
            insn(op.BPF_STX | op.BPF_ATOMIC | size, 10, 1, -8, imm),
            insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 0, 1),
            insn(op.OP_EXIT),
          ];
          const progMem = [...prog.slice(0, -2), insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 0, 10, -8), insn(op.OP_EXIT)];
          const r = new JitEngine().prepare({ ...image(prog), space: sp }).run();
          const m = new JitEngine().prepare({ ...image(progMem), space: sp }).run();
          const newLow = f(mem0 & mask, srcv & mask) & mask;
          const wantMem = dw ? newLow : (mem0 & ~M32 & M64) | newLow;
          assert.equal(m, wantMem, `mem ${imm} dw=${dw} shared=${sp.shared}`);
          assert.equal(r, fetch ? mem0 & mask : srcv, `fetch ${imm} dw=${dw} shared=${sp.shared}`);
        }
      }
      // cmpxchg: equal and unequal r0.
      for (const equal of [true, false]) {
        const r0 = equal ? mem0 : mem0 + 1n;
        const base = [
          ...lddw(2, mem0),
          insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 10, 2, -8),
          ...lddw(0, r0),
          ...lddw(1, srcv),
          insn(op.BPF_STX | op.BPF_ATOMIC | size, 10, 1, -8, op.BPF_CMPXCHG),
        ];
        const got = new JitEngine().prepare({ ...image([...base, insn(op.OP_EXIT)]), space: sp }).run();
        const mem = new JitEngine()
          .prepare({ ...image([...base, insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 0, 10, -8), insn(op.OP_EXIT)]), space: sp })
          .run();
        assert.equal(got, mem0 & mask, `cmpxchg r0 dw=${dw} eq=${equal}`);
        const swapped = dw ? srcv : (mem0 & ~M32 & M64) | (srcv & M32);
        assert.equal(mem, equal ? swapped : mem0, `cmpxchg mem dw=${dw} eq=${equal}`);
      }
    }
  }
});

test('bpf-to-bpf calls: callee-saved registers, separate frames, and the 8-frame limit', () => {
  // Each level writes its depth into its own frame, recurses, then checks its slot survived.
  const src = `
    r1 = 0
    call f
    exit
  f:
    r6 = r1
    *(u64 *)(r10 -8) = r6
    if r6 >= DEPTH goto leaf
    r1 = r6
    r1 += 1
    call f
    r2 = *(u64 *)(r10 -8)
    if r2 != r6 goto bad
    r0 += 1
    exit
  leaf:
    r0 = 100
    exit
  bad:
    r0 = -1
    exit`;
  // main + 7 nested calls of f = 8 frames.
  assert.equal(run(src.replace('DEPTH', '6')), 106n);
  assert.throws(
    () => run(src.replace('DEPTH', '7')),
    (e: unknown) => e instanceof CallDepthExceeded && e.errno === 'E2BIG',
  );
  // r10 differs per frame by the stack size.
  const fp = run(`
    r6 = r10
    call g
    r6 -= r0
    r0 = r6
    exit
  g:
    r0 = r10
    exit`);
  assert.equal(fp, 512n);
});

test('an irreducible CFG compiles through the dispatch loop and runs correctly', () => {
  // Two entries into the cycle a <-> b: from the top to a (r1 odd) or b (r1 even).
  const src = `
    r0 = 0
    r2 = 10
    r3 = r1
    r3 &= 1
    if r3 == 0 goto b
  a:
    r0 += 3
    r2 -= 1
    if r2 == 0 goto out
  b:
    r0 += 5
    r2 -= 1
    if r2 != 0 goto a
  out:
    exit`;
  const insns = assemble(src);
  const entries = functionStarts(insns);
  const cfg = buildFunctionCfg(insns, 0, blockLeaders(insns, entries));
  assert.equal(cfg.reducible, false);
  assert.equal(structure(cfg).dispatch, true);
  const exe = prep(insns);
  assert.equal(exe.compiled.functions[0]!.dispatch, true);
  assert.equal(exe.run({ args: [1n] }), 5n * 3n + 5n * 5n); // a first: a,b,a,b,... 10 steps
  assert.equal(exe.run({ args: [2n] }), 5n * 5n + 5n * 3n);
  assert.equal(exe.run({ args: [3n] }), 40n);
});

test('reducible loops nest: a triple loop counts to n^3', () => {
  const src = `
    r0 = 0
    r1 = 0
  l1:
    r2 = 0
  l2:
    r3 = 0
  l3:
    r0 += 1
    r3 += 1
    if r3 < 9 goto l3
    r2 += 1
    if r2 < 9 goto l2
    r1 += 1
    if r1 < 9 goto l1
    exit`;
  const exe = prep(src);
  assert.equal(exe.compiled.functions[0]!.dispatch, false);
  assert.equal(exe.run(), 729n);
});

test('deep nesting and big programs compile: 3000 chained checks and a 4000-instruction body', () => {
  const lines = ['r0 = 0'];
  for (let i = 0; i < 3000; i++) lines.push(`if r1 == ${i} goto hit${i % 2}`, 'r0 += 1');
  lines.push('exit', 'hit0:', 'r0 += 1000000', 'exit', 'hit1:', 'r0 += 2000000', 'exit');
  const exe = prep(lines.join('\n'));
  assert.equal(exe.run({ args: [5000n] }), 3000n);
  assert.equal(exe.run({ args: [1501n] }), 2001501n);
  // A diamond chain: both sides of every branch are immediately dominated (nested ifs).
  const d = ['r0 = 0'];
  for (let i = 0; i < 1500; i++) d.push(`if r1 > ${i} goto t${i}`, 'r0 += 1', `goto j${i}`, `t${i}:`, 'r0 += 2', `j${i}:`);
  d.push('exit');
  assert.equal(run(d.join('\n'), [700n]), 700n * 2n + 800n);
  // One irreducible cycle makes the whole function a dispatch loop: 3000+ blocks, one nested block each.
  const irr = ['r0 = 0', 'r2 = 3', 'if r1 == 0 goto b', 'a:', 'r0 += 1', 'r2 -= 1', 'if r2 == 0 goto out', 'b:', 'r0 += 10', 'r2 -= 1', 'if r2 != 0 goto a', 'out:'];
  for (let i = 0; i < 3000; i++) irr.push(`if r1 == ${i + 7} goto e`, 'r0 += 100');
  irr.push('exit', 'e:', 'exit');
  const exeIrr = prep(irr.join('\n'));
  assert.equal(exeIrr.compiled.functions[0]!.dispatch, true);
  assert.ok(exeIrr.compiled.functions[0]!.blocks > 3000);
  assert.equal(exeIrr.run({ args: [0n] }), 10n + 1n + 10n + 300000n);
  assert.equal(exeIrr.run({ args: [9n] }), 1n + 10n + 1n + 200n);
});

test('tail calls run the target with the same ctx, fall through on a miss, and stop after 33', () => {
  const engine = new JitEngine();
  const progs: Executable[] = [];
  const tailCallTarget = (mapAddr: number, index: number): Executable | undefined => (mapAddr === 0x1000 ? progs[index] : undefined);
  // prog 0: count in *(u64*)ctx, then tail call itself (index 0); when the call fails, return 7.
  const self = engine.prepare(
    image(
      assemble(`
        r6 = r1
        r2 = *(u64 *)(r1 +0)
        r2 += 1
        *(u64 *)(r1 +0) = r2
        r1 = r6
        r2 = 0x1000
        r3 = 0
        call 12
        r0 = 7
        exit`),
      { tailCallTarget },
    ),
  );
  progs[0] = self;
  const ctx = space.alloc(8);
  assert.equal(self.run({ args: [BigInt(ctx)] }), 7n);
  assert.equal(space.readU64(ctx), 34n); // the first run plus 33 tail calls
  // A miss (empty slot) continues after the call.
  space.writeU64(ctx, 0n);
  const miss = engine.prepare(image(assemble('r2 = 0x1000\nr3 = 5\ncall 12\nr0 = 9\nexit'), { tailCallTarget }));
  assert.equal(miss.run({ args: [BigInt(ctx)] }), 9n);
  // From inside a bpf-to-bpf call: the whole program is replaced.
  progs[1] = engine.prepare(image(assemble('r0 = *(u64 *)(r1 +0)\nr0 += 40\nexit')));
  space.writeU64(ctx, 2n);
  const nested = engine.prepare(
    image(assemble('call f\nr0 = 1\nexit\nf:\nr2 = 0x1000\nr3 = 1\ncall 12\nr0 = 2\nexit'), { tailCallTarget }),
  );
  assert.equal(nested.run({ args: [BigInt(ctx)] }), 42n);
  space.free(ctx);
});

test('helpers get unsigned arguments and an ExecEnv; callbacks run bpf functions; errors are typed', () => {
  const seen: bigint[] = [];
  const helpers = new HelperRegistry([
    def(1, 'record', (env, r1, r2) => {
      seen.push(r1, r2, BigInt(env.cpu));
      return r1 + r2;
    }),
    // bpf_loop-like: call the callback r2 times with (i, r3).
    def(181, 'loop', (env, n, fn, r3) => {
      let acc = 0n;
      for (let i = 0n; i < n; i++) acc += env.callFunc(Number(fn), [i, r3]);
      return acc;
    }),
    def(2, 'boom', () => {
      throw new Error('boom');
    }),
  ]);
  const exe = prep('r1 = -1\nr2 = 2\ncall 1\nexit', { helpers });
  assert.equal(exe.run({ cpu: 3 }), 1n); // (2^64 - 1) + 2 wraps to 1
  assert.deepEqual(seen, [M64, 2n, 3n]);
  const insns = [
    insn(op.BPF_ALU64 | op.BPF_MOV, 1, 0, 0, 4),
    insn(op.OP_LDDW, 2, op.BPF_PSEUDO_FUNC, 0, 5), // the callback at slot 7
    insn(0),
    insn(op.BPF_ALU64 | op.BPF_MOV, 3, 0, 0, 10),
    insn(op.OP_CALL, 0, 0, 0, 181),
    insn(op.OP_EXIT),
    insn(op.OP_EXIT),
    // callback(i, k): return i * k, using its own stack frame
    insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 10, 1, -8),
    insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 0, 10, -8),
    insn(op.BPF_ALU64 | op.BPF_MUL | op.BPF_X, 0, 2),
    insn(op.OP_EXIT),
  ];
  assert.equal(prep(insns, { helpers }).run(), (0n + 1n + 2n + 3n) * 10n);
  assert.throws(() => prep('call 2\nexit', { helpers }).run(), (e: unknown) => e instanceof HelperError && e.pc === 0);
  assert.throws(() => prep('r0 = 0\ncall 99\nexit', { helpers }).run(), (e: unknown) => e instanceof UnknownHelper && e.pc === 1);
  // callx: the helper id in a register.
  assert.equal(prep('r1 = 5\nr2 = 6\nr4 = 1\ncallx r4\nexit', { helpers }).run(), 11n);
  assert.throws(() => prep('r4 = 77\ncallx r4\nexit', { helpers }).run(), UnknownHelper);
});

test('bpf_get_smp_processor_id is inlined and reads the run\'s CPU', () => {
  const exe = prep('call 8\nexit');
  assert.equal(exe.run({ cpu: 5 }), 5n);
  assert.match(dumpJited(image(assemble('call 8\nexit'))), /global\.get \$cpu/);
});

test('a budget stops a loop with a typed error; unverified images get one by default', () => {
  const loop = 'r0 = 0\nl:\nr0 += 1\ngoto l';
  assert.throws(() => prep(loop).run({ budget: 10000 }), (e: unknown) => e instanceof BudgetExceeded && e.budget === 10000);
  // Within budget: the same answer as without one.
  assert.equal(prep('r0 = 0\nl:\nr0 += 1\nif r0 < 100 goto l\nexit').run({ budget: 1000 }), 100n);
  const unverified = new JitEngine().prepare({ ...image(assemble('r0 = 0\nl:\nr0 += 1\nif r0 < 1000 goto l\nexit')), verified: false });
  assert.equal(unverified.run(), 1000n);
  assert.throws(() => unverified.run({ budget: 500 }), BudgetExceeded);
});

test('memory outside the address space is a typed fault, and the executable stays usable', () => {
  const exe = prep('r0 = *(u64 *)(r1 +0)\nexit');
  assert.throws(
    () => exe.run({ args: [0xfffffff0n] }),
    (e: unknown) => e instanceof VmFault && e.errno === 'EFAULT',
  );
  const ok = space.alloc(8);
  space.writeU64(ok, 0x1234n);
  assert.equal(exe.run({ args: [BigInt(ok)] }), 0x1234n);
  // Unverified programs run checked: the fault names the instruction, the address and the access.
  const unverified = new JitEngine().prepare({ ...image(assemble('r2 = 1\n*(u32 *)(r1 +8) = r2\nr0 = 0\nexit')), verified: false });
  for (const [addr, reason] of [
    [0n, /NULL pointer/],
    [0x1_0000_0000n + BigInt(ok), /outside the address space/],
    [BigInt(space.size) - 8n, /outside the address space/],
  ] as const) {
    assert.throws(
      () => unverified.run({ args: [addr] }),
      (e: unknown) => e instanceof VmFault && e.pc === 1 && e.address === addr + 8n && e.size === 4 && e.access === 'write' && reason.test(e.message),
    );
  }
  assert.equal(unverified.run({ args: [BigInt(ok) - 8n] }), 0n);
  assert.equal(space.readU32(ok), 1);
  space.free(ok);
});

test('the text form shows every function with the eBPF instructions it came from', () => {
  const wat = dumpJited(image(assemble('r1 = 1\ncall f\nexit\nf:\nr0 = r1\nr0 *= 3\nexit')));
  assert.match(wat, /^\(module/);
  assert.match(wat, /\(func \$f0 \(export "f0"\)/);
  assert.match(wat, /\(func \$f3 \(export "f3"\)/);
  assert.match(wat, /;; insn 4: r0 \*= 3/);
  assert.match(wat, /i64\.mul/);
  assert.match(wat, /call \$f3/);
});

test('shared memory: the module imports it as shared and atomics use the atomic instructions', () => {
  const prog = assemble('lock *(u64 *)(r10 -8) += r1\nr0 = 0\nexit');
  const wat = dumpJited({ ...image(prog), space: sharedSpace });
  assert.match(wat, /memory 0 65536 shared/);
  assert.match(wat, /i64\.atomic\.rmw\.add/);
  assert.doesNotMatch(dumpJited(image(prog)), /atomic/);
});

// (preallocated hash maps of every kind are inlined too: jit-hash-inline.test.ts; a NO_PREALLOC hash is a map that is not)
test('array map lookups are inlined from the map descriptor and agree with the map; other maps call the helper', () => {
  const table = new MapTable();
  const mk = (type: 'array' | 'hash' | 'percpu_array', flags = 0): BpfMap<unknown> =>
    createMap({ name: type, type, keySize: 4, valueSize: 12, maxEntries: 10, flags, pinning: 'none' } as MapSpec, { space, table });
  const arr = mk('array');
  const hash = mk('hash', 1); // BPF_F_NO_PREALLOC: its table is in the JS heap
  const calls: number[] = [];
  const helpers = new HelperRegistry([
    def(1, 'map_lookup_elem', (_env, map, key) => {
      calls.push(Number(map));
      return BigInt(table.byAddr(Number(map))!.ops.lookupElem(Number(key)));
    }),
  ]);
  // r0 = lookup(map, &key) ? *(u64 *)value : 0xdead
  const prog = (mapAddr: number): Insn[] =>
    assemble(`
      r6 = r1
      r1 = ${mapAddr} ll
      r2 = r10
      r2 += -4
      *(u32 *)(r10 -4) = r6
      call 1
      if r0 == 0 goto miss
      r0 = *(u64 *)(r0 +0)
      exit
    miss:
      r0 = 0xdead
      exit`);
  for (let i = 0; i < 10; i++) space.writeU64((arr as unknown as { slotAddr(i: number): number }).slotAddr(i), BigInt(1000 + i));
  const exe = prep(prog(arr.addr), { helpers });
  assert.doesNotMatch(printWatOf(exe), /call \$h\.1/);
  for (const key of [0, 3, 9, 10, 0xffffffff]) {
    const want = key < 10 ? BigInt(1000 + key) : 0xdeadn;
    assert.equal(exe.run({ args: [BigInt(key)] }), want, `key ${key}`);
  }
  assert.deepEqual(calls, []);
  const exeHash = prep(prog(hash.addr), { helpers });
  assert.match(printWatOf(exeHash), /call \$h\.1/);
  assert.equal(exeHash.run({ args: [3n] }), 0xdeadn); // empty hash map
  assert.deepEqual(calls, [hash.addr]);
  // With no inliners every lookup is a call.
  const plain = new JitEngine({ inliners: new Map() }).prepare(image(prog(arr.addr), { helpers }));
  assert.equal(plain.run({ args: [4n] }), 1004n);
  assert.deepEqual(calls, [hash.addr, arr.addr]);
});

function printWatOf(exe: JitExecutable): string {
  return printWat(exe.compiled, exe.image.insns);
}

test('a helper may run the same program again: frames, CPU and budget of the outer run survive', () => {
  let exe: JitExecutable | undefined;
  const helpers = new HelperRegistry([def(77, 'reenter', (_env, r1) => exe!.run({ args: [r1], cpu: 9, budget: 1000 }))]);
  // f(n) = n == 0 ? cpu : f'(n - 1) + stack marker n + cpu * 100, the inner runs on CPU 9 with a budget
  exe = prep(
    `
    *(u64 *)(r10 -8) = r1
    if r1 == 0 goto leaf
    r1 -= 1
    call 77
    r6 = r0
    r2 = *(u64 *)(r10 -8)
    r6 += r2
    call 8
    r0 *= 100
    r0 += r6
    exit
  leaf:
    call 8
    exit`,
    { helpers },
  );
  // outer (cpu 3, no budget): f(2) = [inner on cpu 9: f(1) = (9) + 1 + 900] + 2 + 300
  assert.equal(exe.run({ args: [2n], cpu: 3 }), 9n + 1n + 900n + 2n + 300n);
  assert.equal(exe.run({ args: [0n], cpu: 4 }), 4n);
});

test('legacy LD_ABS/LD_IND read big-endian packet bytes from the region r6 points into; out of bounds returns 0', () => {
  const pkt = space.alloc(16);
  space.write(pkt, Uint8Array.from([0x45, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]));
  const region = space.addRegion({ base: pkt, size: 16, kind: 'packet', name: 'pkt', writable: true });
  const ldAbs = (size: number, imm: number): Insn => insn(op.BPF_LD | op.BPF_ABS | size, 0, 0, 0, imm);
  const ldInd = (size: number, src: number, imm: number): Insn => insn(op.BPF_LD | op.BPF_IND | size, 0, src, 0, imm);
  const mov6 = insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 6, 1);
  const exit = insn(op.OP_EXIT);
  const args = { args: [BigInt(pkt)] };
  assert.equal(prep([mov6, ldAbs(op.BPF_H, 2), exit]).run(args), 0x1234n);
  assert.equal(prep([mov6, ldAbs(op.BPF_W, 4), exit]).run(args), 0xdeadbeefn);
  assert.equal(prep([mov6, ldAbs(op.BPF_B, 0), exit]).run(args), 0x45n);
  assert.equal(prep([mov6, insn(op.BPF_ALU64 | op.BPF_MOV, 2, 0, 0, 8), ldInd(op.BPF_W, 2, 4), exit]).run(args), 0x05060708n);
  // Past the end of the packet: the program ends with r0 = 0.
  assert.equal(prep([mov6, insn(op.BPF_ALU64 | op.BPF_MOV, 0, 0, 0, 7), ldAbs(op.BPF_W, 14), insn(op.BPF_ALU64 | op.BPF_MOV, 0, 0, 0, 9), exit]).run(args), 0n);
  space.removeRegion(region);
  space.free(pkt);
});

test('may_goto: falls through BPF_MAX_LOOPS (8M) times per invocation, then jumps (Linux 6.9)', () => {
  const exe = prep('r0 = 0\nl: may_goto out\nr0 += 1\ngoto l\nout: exit');
  try {
    assert.equal(exe.run({ args: [] }), 8n * 1024n * 1024n);
    assert.equal(exe.run({ args: [] }), 8n * 1024n * 1024n);
  } finally {
    exe.close();
  }
  // the budget is per function invocation: a subprogram's loop gets its own
  const nested = 'r6 = 0\ncall f\nr6 += r0\nr0 = r6\nexit\nf: r0 = 0\nl: may_goto out\nr0 += 1\ngoto l\nout: exit';
  assert.equal(run(nested), 8n * 1024n * 1024n);
});
