/**
 * The JIT against the reference interpreter: the conformance suite, and
 * randomly generated programs (straight-line ALU code over corner values,
 * loads and stores on the stack and a buffer, atomics, forward branches,
 * bounded loops, irreducible two-entry loops, helper calls). Each program
 * folds every register and stack slot into r0; both r0 and the buffer must
 * agree. Seeds are fixed, so a failure names a reproducible program.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import * as op from '../src/isa/opcodes.js';
import { disassemble } from '../src/isa/disasm.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry } from '../src/vm/helper-abi.js';
import type { Engine, ProgramImage } from '../src/vm/engine.js';
import { Interpreter } from '../src/vm/interpreter.js';
import { JitEngine } from '../src/vm/jit/index.js';
import { conformanceNames, helper5, readCase } from './jit-support.js';
import { CONFORMANCE_MISSING } from './paths.js';

const space = new AddressSpace({ initialPages: 64 });
/** every function split into regions of a few instructions (jit/outline.ts): region calls, returns and escapes everywhere */
const OUTLINE_ALL = { outline: { above: 0, target: 3, min: 1 } };
const BUF = 256;
const STACK_SLOTS = 16;

/** xorshift32: small, seedable, good enough to pick instructions. */
class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  u64(): bigint {
    if (this.chance(0.3)) return this.pick(CORNER_VALUES);
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
  imm(): number {
    if (this.chance(0.3)) return this.pick([0, 1, -1, 2, 31, 32, 63, 64, -0x80000000, 0x7fffffff, 8, 16]);
    return this.next() | 0;
  }
}

const CORNER_VALUES = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x80000000n, 0x100000000n, 63n, 64n, 32n];

const ALU_OPS = [
  op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_DIV, op.BPF_OR, op.BPF_AND, op.BPF_LSH, op.BPF_RSH,
  op.BPF_NEG, op.BPF_MOD, op.BPF_XOR, op.BPF_MOV, op.BPF_ARSH, op.BPF_END,
];
const JMP_OPS = [
  op.BPF_JEQ, op.BPF_JGT, op.BPF_JGE, op.BPF_JSET, op.BPF_JNE, op.BPF_JSGT, op.BPF_JSGE,
  op.BPF_JLT, op.BPF_JLE, op.BPF_JSLT, op.BPF_JSLE,
];
const SIZES = [op.BPF_B, op.BPF_H, op.BPF_W, op.BPF_DW];

/**
 * Register use: r0..r7 are scratch, r8 counts loop iterations, r9 holds the
 * buffer address (r1 at entry), r10 the frame.
 */
function aluInsn(r: Rng): Insn {
  const is64 = r.chance(0.5);
  const cls = is64 ? op.BPF_ALU64 : op.BPF_ALU;
  const o = r.pick(ALU_OPS);
  const dst = r.int(8);
  const src = r.int(8);
  const x = r.chance(0.5);
  if (o === op.BPF_NEG) return insn(cls | o, dst);
  if (o === op.BPF_END) {
    const width = r.pick([16, 32, 64]);
    if (is64) return insn(op.BPF_ALU64 | op.BPF_END, dst, 0, 0, width);
    return insn(op.BPF_ALU | op.BPF_END | (r.chance(0.5) ? op.BPF_TO_BE : op.BPF_TO_LE), dst, 0, 0, width);
  }
  if (o === op.BPF_MOV && x && r.chance(0.4)) return insn(cls | o | op.BPF_X, dst, src, r.pick(is64 ? [8, 16, 32] : [8, 16]));
  const off = (o === op.BPF_DIV || o === op.BPF_MOD) && r.chance(0.5) ? 1 : 0;
  return x ? insn(cls | o | op.BPF_X, dst, src, off) : insn(cls | o, dst, 0, off, r.imm());
}

function memInsn(r: Rng): Insn {
  const size = r.pick(SIZES);
  const bytes = op.sizeBytes(size);
  const onStack = r.chance(0.5);
  const base = onStack ? 10 : 9;
  const off = onStack ? -bytes * (1 + r.int((STACK_SLOTS * 8) / bytes)) : bytes * r.int(BUF / bytes);
  const kind = r.int(4);
  if (kind === 0) return insn(op.BPF_LDX | op.BPF_MEM | size, r.int(8), base, off);
  if (kind === 1 && size !== op.BPF_DW) return insn(op.BPF_LDX | op.BPF_MEMSX | size, r.int(8), base, off);
  if (kind === 2) return insn(op.BPF_ST | op.BPF_MEM | size, base, 0, off, r.imm());
  return insn(op.BPF_STX | op.BPF_MEM | size, base, r.int(8), off);
}

function atomicInsn(r: Rng): Insn {
  const dw = r.chance(0.5);
  const size = dw ? op.BPF_DW : op.BPF_W;
  const bytes = dw ? 8 : 4;
  const onStack = r.chance(0.5);
  const base = onStack ? 10 : 9;
  const off = onStack ? -bytes * (1 + r.int((STACK_SLOTS * 8) / bytes)) : bytes * r.int(BUF / bytes);
  const imm = r.pick([
    op.BPF_ADD, op.BPF_OR, op.BPF_AND, op.BPF_XOR,
    op.BPF_ADD | op.BPF_FETCH, op.BPF_OR | op.BPF_FETCH, op.BPF_AND | op.BPF_FETCH, op.BPF_XOR | op.BPF_FETCH,
    op.BPF_XCHG, op.BPF_CMPXCHG,
  ]);
  return insn(op.BPF_STX | op.BPF_ATOMIC | size, base, r.int(8), off, imm);
}

function condJump(r: Rng, off: number): Insn {
  const cls = r.chance(0.5) ? op.BPF_JMP : op.BPF_JMP32;
  const o = r.pick(JMP_OPS);
  return r.chance(0.5) ? insn(cls | o | op.BPF_X, r.int(8), r.int(8), off) : insn(cls | o, r.int(8), 0, off, r.imm());
}

function straight(r: Rng, n: number): Insn[] {
  const out: Insn[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 6) out.push(aluInsn(r));
    else if (k < 8) out.push(memInsn(r));
    else if (k < 9) out.push(atomicInsn(r));
    else {
      const dst = r.int(8);
      out.push(...lddw(dst, r.u64()));
    }
  }
  return out;
}

/** A generated program: items are laid out in order; forward jumps go to item starts. */
function generate(seed: number): Insn[] {
  const r = new Rng(seed);
  const items: Insn[][] = [];
  const jumps: Array<{ item: number; to: number }> = [];
  const nItems = 20 + r.int(60);
  for (let i = 0; i < nItems; i++) {
    const k = r.int(20);
    if (k < 12) items.push(straight(r, 1 + r.int(4)));
    else if (k < 15) {
      // forward conditional jump to a later item (patched below)
      jumps.push({ item: items.length, to: Math.min(nItems, i + 1 + r.int(8)) });
      items.push([condJump(r, 0)]);
    } else if (k < 17) {
      // bounded loop: r8 = n; body; r8 -= 1; if r8 != 0 goto body
      const body = straight(r, 1 + r.int(6));
      const n = 1 + r.int(5);
      items.push([
        insn(op.BPF_ALU64 | op.BPF_MOV, 8, 0, 0, n),
        ...body,
        insn(op.BPF_ALU64 | op.BPF_SUB, 8, 0, 0, 1),
        insn(op.BPF_JMP | op.BPF_JNE, 8, 0, -(body.length + 2), 0),
      ]);
    } else if (k < 18) {
      // irreducible: two entries into the cycle A <-> B, r8 bounds it
      const a = straight(r, 1 + r.int(4));
      const b = straight(r, 1 + r.int(4));
      const n = 1 + r.int(6);
      const seq: Insn[] = [insn(op.BPF_ALU64 | op.BPF_MOV, 8, 0, 0, n)];
      const entryJump = condJump(r, 0);
      seq.push(entryJump); // -> B
      const aStart = seq.length;
      seq.push(...a, insn(op.BPF_ALU64 | op.BPF_SUB, 8, 0, 0, 1));
      const exitJump = seq.length;
      seq.push(insn(op.BPF_JMP | op.BPF_JEQ, 8, 0, 0, 0)); // -> out
      const bStart = seq.length;
      seq.push(...b, insn(op.BPF_ALU64 | op.BPF_SUB, 8, 0, 0, 1));
      const back = seq.length;
      seq.push(insn(op.BPF_JMP | op.BPF_JNE, 8, 0, aStart - back - 1, 0));
      const out = seq.length;
      seq[1] = { ...entryJump, off: bStart - 1 - 1 };
      seq[exitJump] = { ...seq[exitJump]!, off: out - exitJump - 1 };
      items.push(seq);
    } else if (k < 19) {
      // helper 5 returns r1 (r1..r5 are set from scratch registers first)
      items.push([insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 1, r.int(8)), insn(op.OP_CALL, 0, 0, 0, 5)]);
    } else {
      // an early exit, sometimes
      items.push([condJump(r, 1), insn(op.BPF_JMP | op.BPF_JA, 0, 0, 1), insn(op.OP_EXIT)]);
    }
  }
  // Prologue: keep the buffer in r9, zero the stack slots, seed the registers.
  const pro: Insn[] = [insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 9, 1)];
  for (let s = 1; s <= STACK_SLOTS; s++) pro.push(insn(op.BPF_ST | op.BPF_MEM | op.BPF_DW, 10, 0, -8 * s, 0));
  for (let reg = 0; reg <= 8; reg++) pro.push(...lddw(reg, r.u64()));
  // Epilogue: fold registers and stack slots into r0.
  const epi: Insn[] = [];
  for (let reg = 1; reg <= 8; reg++) {
    epi.push(insn(op.BPF_ALU64 | op.BPF_MUL, 0, 0, 0, 31), insn(op.BPF_ALU64 | op.BPF_XOR | op.BPF_X, 0, reg));
  }
  for (let s = 1; s <= STACK_SLOTS; s++) {
    epi.push(
      insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, 1, 10, -8 * s),
      insn(op.BPF_ALU64 | op.BPF_MUL, 0, 0, 0, 31),
      insn(op.BPF_ALU64 | op.BPF_XOR | op.BPF_X, 0, 1),
    );
  }
  epi.push(insn(op.OP_EXIT));
  // Lay out and patch the forward jumps.
  const starts: number[] = [];
  let pos = pro.length;
  for (const it of items) {
    starts.push(pos);
    pos += it.length;
  }
  starts.push(pos); // the epilogue
  const prog = [...pro, ...items.flat(), ...epi];
  for (const j of jumps) {
    const at = starts[j.item]!;
    prog[at] = { ...prog[at]!, off: starts[j.to]! - at - 1 };
  }
  return prog;
}

function runOn(engine: Engine, insns: readonly Insn[], mem: Uint8Array): { r0: bigint | string; mem: Uint8Array } {
  const buf = space.alloc(BUF);
  space.write(buf, mem);
  const img: ProgramImage = { name: 'diff', insns, helpers: helper5(), space, verified: true };
  let r0: bigint | string;
  try {
    const exe = engine.prepare(img);
    r0 = exe.run({ args: [BigInt(buf), BigInt(BUF)] });
    (exe as { close?: () => void }).close?.();
  } catch (e) {
    r0 = `${(e as Error).name}`;
  }
  const out = space.bytes(buf, BUF).slice();
  space.free(buf);
  return { r0, mem: out };
}

test('random programs: the JIT (whole and outlined) and the interpreter agree on r0 and memory', () => {
  const jit = new JitEngine();
  const outlined = new JitEngine(OUTLINE_ALL);
  const interp = new Interpreter();
  const N = 150;
  for (let seed = 1; seed <= N; seed++) {
    const prog = generate(seed * 2654435761);
    const mem = new Uint8Array(BUF);
    const r = new Rng(seed);
    for (let i = 0; i < BUF; i++) mem[i] = r.int(256);
    const a = runOn(interp, prog, mem);
    const b = runOn(jit, prog, mem);
    const ctx = (): string => `seed ${seed}\n${disassemble(prog)}`;
    assert.equal(b.r0, a.r0, ctx());
    assert.deepEqual(b.mem, a.mem, ctx());
    const c = runOn(outlined, prog, mem);
    assert.equal(c.r0, a.r0, `outlined: ${ctx()}`);
    assert.deepEqual(c.mem, a.mem, `outlined: ${ctx()}`);
  }
});

/**
 * Arbitrary control flow: blocks that jump anywhere (forward or back), so
 * the graphs are reducible or irreducible at random. Every block records
 * itself in a path hash (r5) and decrements a fuel counter (r9) that ends
 * the run, so both engines must take exactly the same path.
 */
function randomCfg(seed: number): { prog: Insn[]; blocks: number } {
  const r = new Rng(seed);
  const nb = 3 + r.int(25);
  const backProb = r.pick([0, 0.1, 0.3, 0.6]);
  const blocks: Insn[][] = [];
  const jumps: Array<{ block: number; at: number; to: number }> = [];
  for (let b = 0; b < nb; b++) {
    const code: Insn[] = [
      insn(op.BPF_ALU64 | op.BPF_MUL, 5, 0, 0, 31),
      insn(op.BPF_ALU64 | op.BPF_ADD, 5, 0, 0, b + 1),
      insn(op.BPF_ALU64 | op.BPF_SUB, 9, 0, 0, 1),
      insn(op.BPF_JMP | op.BPF_JEQ, 9, 0, 0, 0), // -> the exit block (patched)
    ];
    jumps.push({ block: b, at: 3, to: nb });
    for (let k = r.int(3); k > 0; k--) {
      const dst = r.int(4);
      code.push(r.chance(0.5) ? insn(op.BPF_ALU64 | r.pick([op.BPF_ADD, op.BPF_XOR, op.BPF_MUL]), dst, 0, 0, r.imm()) : insn(op.BPF_ALU64 | op.BPF_ADD | op.BPF_X, dst, r.int(4)));
    }
    const target = (): number => (r.chance(backProb) ? r.int(b + 1) : b + 1 + r.int(nb - b));
    const kind = r.int(3);
    if (kind === 0) {
      jumps.push({ block: b, at: code.length, to: target() });
      code.push(condJump(r, 0)); // then fall through to b + 1
    } else if (kind === 1) {
      jumps.push({ block: b, at: code.length, to: target() });
      code.push(insn(op.BPF_JMP | op.BPF_JA, 0, 0, 0));
    } else if (r.chance(0.5) && b + 1 < nb) {
      // fall through
    } else {
      jumps.push({ block: b, at: code.length, to: target() });
      code.push(condJump(r, 0));
      jumps.push({ block: b, at: code.length, to: target() });
      code.push(insn(op.BPF_JMP | op.BPF_JA, 0, 0, 0));
    }
    blocks.push(code);
  }
  // The exit block folds the state into r0.
  blocks.push([
    insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, 0, 5),
    insn(op.BPF_ALU64 | op.BPF_MUL, 0, 0, 0, 31),
    insn(op.BPF_ALU64 | op.BPF_XOR | op.BPF_X, 0, 1),
    insn(op.BPF_ALU64 | op.BPF_XOR | op.BPF_X, 0, 2),
    insn(op.BPF_ALU64 | op.BPF_XOR | op.BPF_X, 0, 3),
    insn(op.OP_EXIT),
  ]);
  const pro: Insn[] = [...lddw(0, r.u64()), ...lddw(1, r.u64()), ...lddw(2, r.u64()), ...lddw(3, r.u64()), insn(op.BPF_ALU64 | op.BPF_MOV, 5, 0, 0, 0), insn(op.BPF_ALU64 | op.BPF_MOV, 9, 0, 0, 200)];
  const starts: number[] = [];
  let pos = pro.length;
  for (const b of blocks) {
    starts.push(pos);
    pos += b.length;
  }
  const prog = [...pro, ...blocks.flat()];
  for (const j of jumps) {
    const at = starts[j.block]! + j.at;
    const ins = prog[at]!;
    prog[at] = { ...ins, off: starts[j.to]! - at - 1 };
  }
  return { prog, blocks: nb };
}

test('random control-flow graphs, reducible and irreducible: the JIT (whole and outlined) takes the same path as the interpreter', () => {
  const jit = new JitEngine();
  const outlined = new JitEngine(OUTLINE_ALL);
  const interp = new Interpreter();
  let irreducible = 0;
  let reducibleLoops = 0;
  let escapes = 0;
  for (let seed = 1; seed <= 250; seed++) {
    const { prog } = randomCfg(seed * 40503);
    const img: ProgramImage = { name: 'cfg', insns: prog, helpers: new HelperRegistry(), space, verified: true };
    const exe = jit.prepare(img);
    const f = exe.compiled.functions[0]!;
    if (f.dispatch) irreducible++;
    else if (prog.some((i, k) => op.classOf(i.code) === op.BPF_JMP && i.off < 0 && k > 0)) reducibleLoops++;
    const want = interp.prepare(img).run();
    assert.equal(exe.run(), want, `seed ${seed}\n${disassemble(prog)}`);
    exe.close();
    const o = outlined.prepare(img);
    assert.equal(o.run(), want, `outlined: seed ${seed}\n${disassemble(prog)}`);
    const regions = o.compiled.functions[0]!.regions;
    if (!f.dispatch) assert.ok(regions.length > 0, `seed ${seed}: nothing outlined`);
    o.close();
    if (regions.some((x) => x.escapes > 0)) escapes++;
  }
  assert.ok(escapes > 12, `graphs with a region that branches out of itself: ${escapes}`);
  assert.ok(irreducible > 12, `irreducible graphs: ${irreducible}`);
  assert.ok(reducibleLoops > 12, `reducible graphs with loops: ${reducibleLoops}`);
});

test('the conformance suite: the JIT and the interpreter agree', { skip: CONFORMANCE_MISSING }, () => {
  const jit = new JitEngine();
  const interp = new Interpreter({ checked: false });
  for (const name of conformanceNames()) {
    const c = readCase(name);
    const results = [interp, jit].map((engine) => {
      const addr = c.mem.length ? space.alloc(c.mem.length) : 0;
      if (addr) space.write(addr, c.mem);
      const img: ProgramImage = { name, insns: c.insns, helpers: helper5(), space };
      const r0 = engine.prepare(img).run({ args: [BigInt(addr), BigInt(c.mem.length)] });
      const mem = addr ? space.bytes(addr, c.mem.length).slice() : new Uint8Array();
      if (addr) space.free(addr);
      return { r0, mem };
    });
    assert.equal(results[1]!.r0, results[0]!.r0, name);
    assert.deepEqual(results[1]!.mem, results[0]!.mem, name);
  }
});

test('the generator covers what it claims: loops, irreducible graphs and helper calls occur', () => {
  let irreducible = 0;
  let calls = 0;
  const jit = new JitEngine();
  for (let seed = 1; seed <= 60; seed++) {
    const prog = generate(seed * 2654435761);
    const exe = jit.prepare({ name: 'g', insns: prog, helpers: new HelperRegistry(), space, verified: true });
    if (exe.compiled.functions.some((f) => f.dispatch)) irreducible++;
    if (prog.some((i) => i.code === op.OP_CALL)) calls++;
    exe.close();
  }
  assert.ok(irreducible > 5, `irreducible programs: ${irreducible}`);
  assert.ok(calls > 5, `programs with helper calls: ${calls}`);
});
