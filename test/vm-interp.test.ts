import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/asm.js';
import { insn, lddw, type Insn } from '../src/isa/insn.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { HelperRegistry, type HelperDef, type HelperFn } from '../src/vm/helper-abi.js';
import type { Executable, ProgramImage } from '../src/vm/engine.js';
import { Interpreter, InterpExecutable } from '../src/vm/interpreter.js';
import { BudgetExceeded, CallDepthExceeded, HelperError, UnknownHelper, UnsupportedInsn, VmFault } from '../src/vm/fault.js';
import { runRaw } from '../src/conformance/runner.js';
import { TsbpfError } from '../src/errors.js';

const asm = (src: string): Insn[] => assemble(src, { dialect: 'kernel' });
const M64 = (1n << 64n) - 1n;

function helper(id: number, fn: HelperFn, name = `h${id}`): HelperDef {
  return { id, name, proto: { ret: 'INTEGER', args: [] }, fn };
}

interface Setup {
  space?: AddressSpace;
  helpers?: HelperDef[];
  verified?: boolean;
  checked?: boolean;
  tailCallTarget?: ProgramImage['tailCallTarget'];
  name?: string;
}

function prepare(insns: Insn[], s: Setup = {}): InterpExecutable {
  const space = s.space ?? new AddressSpace({ initialPages: 2 });
  const image: ProgramImage = {
    name: s.name ?? 'test',
    insns,
    helpers: new HelperRegistry(s.helpers ?? []),
    space,
    verified: s.verified ?? false,
  };
  if (s.tailCallTarget) image.tailCallTarget = s.tailCallTarget;
  return new Interpreter(s.checked === undefined ? {} : { checked: s.checked }).prepare(image);
}

const interp = new Interpreter();
const run = (src: string, mem?: Uint8Array): bigint => runRaw(asm(src), mem, interp, 1e6);

// ---------------------------------------------------------------------------
// A reference model of the ALU in BigInt, straight from RFC 9669 section 4.1
// and the kernel's semantics, to compare the 32-bit-halves implementation with.

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'or' | 'and' | 'lsh' | 'rsh' | 'mod' | 'xor' | 'mov' | 'arsh' | 'sdiv' | 'smod';
const ALU_CODE: Record<AluOp, [number, number]> = {
  add: [0x00, 0], sub: [0x10, 0], mul: [0x20, 0], div: [0x30, 0], or: [0x40, 0], and: [0x50, 0], lsh: [0x60, 0],
  rsh: [0x70, 0], mod: [0x90, 0], xor: [0xa0, 0], mov: [0xb0, 0], arsh: [0xc0, 0], sdiv: [0x30, 1], smod: [0x90, 1],
};

function refAlu(o: AluOp, a: bigint, b: bigint, is64: boolean): bigint {
  if (is64) {
    switch (o) {
      case 'add': return (a + b) & M64;
      case 'sub': return (a - b) & M64;
      case 'mul': return (a * b) & M64;
      case 'div': return b === 0n ? 0n : a / b;
      case 'mod': return b === 0n ? a : a % b;
      case 'or': return a | b;
      case 'and': return a & b;
      case 'xor': return a ^ b;
      case 'lsh': return (a << (b & 63n)) & M64;
      case 'rsh': return a >> (b & 63n);
      case 'arsh': return BigInt.asUintN(64, s64(a) >> (b & 63n));
      case 'mov': return b;
      case 'sdiv': return b === 0n ? 0n : BigInt.asUintN(64, s64(a) / s64(b));
      case 'smod': return b === 0n ? a : BigInt.asUintN(64, s64(a) % s64(b));
    }
  }
  const x = u32(a);
  const y = u32(b);
  switch (o) {
    case 'add': return u32(x + y);
    case 'sub': return u32(x - y);
    case 'mul': return u32(x * y);
    case 'div': return y === 0n ? 0n : x / y;
    case 'mod': return y === 0n ? x : x % y;
    case 'or': return x | y;
    case 'and': return x & y;
    case 'xor': return x ^ y;
    case 'lsh': return u32(x << (y & 31n));
    case 'rsh': return x >> (y & 31n);
    case 'arsh': return u32(s32(x) >> (y & 31n));
    case 'mov': return y;
    case 'sdiv': return y === 0n ? 0n : u32(s32(x) / s32(y));
    case 'smod': return y === 0n ? x : u32(s32(x) % s32(y));
  }
}

const SPECIAL = [
  0n, 1n, 2n, 3n, 7n, 31n, 32n, 33n, 63n, 64n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x1fffffffffffffn, 0x20000000000000n, 0x20000000000001n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffff00000000n, 0xfffffffffffffffen, M64,
  0x123456789abcdef0n, 0xfedcba9876543210n,
];

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function operands(n: number): Array<[bigint, bigint]> {
  const r = rng(12345);
  const pick = (): bigint => {
    const k = r() % 4;
    if (k === 0) return SPECIAL[r() % SPECIAL.length]!;
    if (k === 1) return BigInt(r()) | (BigInt(r()) << 32n);
    if (k === 2) return BigInt(r() % 1000);
    return BigInt.asUintN(64, -BigInt(r() % 1000));
  };
  const out: Array<[bigint, bigint]> = [];
  for (const a of SPECIAL) for (const b of [0n, 1n, M64, 0x8000000000000000n, 0xffffffffn, 0x80000000n, 31n, 32n, 63n, 64n]) out.push([a, b]);
  while (out.length < n) out.push([pick(), pick()]);
  return out;
}

test('every ALU/ALU64 operation matches a BigInt model of RFC 9669, register and immediate forms', () => {
  const space = new AddressSpace({ initialPages: 2 });
  const ops = Object.keys(ALU_CODE) as AluOp[];
  const pairs = operands(300);
  let checked = 0;
  for (const o of ops) {
    for (const is64 of [true, false]) {
      const [opc, off] = ALU_CODE[o];
      const cls = is64 ? 0x07 : 0x04;
      for (const [a, b] of pairs) {
        // register form: lddw r1, a; lddw r2, b; op r1, r2; r0 = r1; exit
        const regProg = [...lddw(1, a), ...lddw(2, b), insn(cls | 0x08 | opc, 1, 2, off, 0), insn(0xbf, 0, 1), insn(0x95)];
        const got = prepare(regProg, { space }).run();
        assert.equal(got, refAlu(o, a, b, is64), `${o}${is64 ? '64' : '32'} 0x${a.toString(16)}, 0x${b.toString(16)}`);
        // immediate form: the imm is the low 32 bits of b, sign-extended for ALU64
        const imm = Number(s32(b));
        const immB = is64 ? BigInt.asUintN(64, BigInt(imm)) : u32(BigInt(imm));
        const immProg = [...lddw(1, a), insn(cls | opc, 1, 0, off, imm), insn(0xbf, 0, 1), insn(0x95)];
        assert.equal(prepare(immProg, { space }).run(), refAlu(o, a, immB, is64), `${o}${is64 ? '64' : '32'} 0x${a.toString(16)}, imm ${imm}`);
        checked += 2;
      }
    }
  }
  assert.ok(checked > 10000);
});

const JMP_CODE: Record<string, number> = {
  jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
};

function refCond(c: string, a: bigint, b: bigint, is64: boolean): boolean {
  const ua = is64 ? a : u32(a);
  const ub = is64 ? b : u32(b);
  const sa = is64 ? s64(a) : s32(a);
  const sb = is64 ? s64(b) : s32(b);
  switch (c) {
    case 'jeq': return ua === ub;
    case 'jne': return ua !== ub;
    case 'jgt': return ua > ub;
    case 'jge': return ua >= ub;
    case 'jlt': return ua < ub;
    case 'jle': return ua <= ub;
    case 'jset': return (ua & ub) !== 0n;
    case 'jsgt': return sa > sb;
    case 'jsge': return sa >= sb;
    case 'jslt': return sa < sb;
    default: return sa <= sb;
  }
}

test('every JMP/JMP32 condition matches a BigInt model, register and immediate forms', () => {
  const space = new AddressSpace({ initialPages: 2 });
  const pairs = operands(150);
  for (const [c, opc] of Object.entries(JMP_CODE)) {
    for (const is64 of [true, false]) {
      const cls = is64 ? 0x05 : 0x06;
      for (const [a, b0] of pairs) {
        // equal operands exercise the >=/<= boundaries
        for (const b of [b0, a]) {
          // r0 = 1; if r1 OP r2 goto +1; r0 = 0; exit
          const reg = [...lddw(1, a), ...lddw(2, b), insn(0xb7, 0, 0, 0, 1), insn(cls | 0x08 | opc, 1, 2, 1), insn(0xb7, 0, 0, 0, 0), insn(0x95)];
          assert.equal(prepare(reg, { space }).run(), refCond(c, a, b, is64) ? 1n : 0n, `${c}${is64 ? '' : '32'} 0x${a.toString(16)}, 0x${b.toString(16)}`);
          const imm = Number(s32(b));
          const immB = BigInt.asUintN(64, BigInt(imm));
          const k = [...lddw(1, a), insn(0xb7, 0, 0, 0, 1), insn(cls | opc, 1, 0, 1, imm), insn(0xb7, 0, 0, 0, 0), insn(0x95)];
          assert.equal(prepare(k, { space }).run(), refCond(c, a, immB, is64) ? 1n : 0n, `${c}${is64 ? '' : '32'} 0x${a.toString(16)}, imm ${imm}`);
        }
      }
    }
  }
});

test('division corners: by zero, INT_MIN / -1, 32-bit results zero-extended', () => {
  // 64-bit
  assert.equal(run('r0 = 7\nr1 = 0\nr0 /= r1\nexit'), 0n);
  assert.equal(run('r0 = 7\nr1 = 0\nr0 %= r1\nexit'), 7n);
  assert.equal(run('r0 = -7\nr1 = 0\nr0 s/= r1\nexit'), 0n);
  assert.equal(run('r0 = -7\nr1 = 0\nr0 s%= r1\nexit'), BigInt.asUintN(64, -7n));
  assert.equal(run('r0 = 0x8000000000000000 ll\nr1 = -1\nr0 s/= r1\nexit'), 0x8000000000000000n);
  assert.equal(run('r0 = 0x8000000000000000 ll\nr0 s/= -1\nexit'), 0x8000000000000000n);
  assert.equal(run('r0 = 0x8000000000000000 ll\nr1 = -1\nr0 s%= r1\nexit'), 0n);
  assert.equal(run('r0 = -7\nr0 s%= 2\nexit'), M64); // remainder takes the dividend's sign
  assert.equal(run('r0 = 7\nr0 s%= -2\nexit'), 1n);
  // unsigned division by an immediate sign-extends it first: x / 0xffff...ffff
  assert.equal(run('r0 = -1\nr0 /= -1\nexit'), 1n);
  assert.equal(run('r0 = 5\nr0 /= -1\nexit'), 0n);
  // 32-bit: mod by zero keeps the low 32 bits, zero-extended
  assert.equal(run('r0 = 0x1122334455667788 ll\nw1 = 0\nw0 %= w1\nexit'), 0x55667788n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nw1 = 0\nw0 /= w1\nexit'), 0n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nw0 s%= 0\nexit'), 0x55667788n);
  assert.equal(run('w0 = 0x80000000\nw0 s/= -1\nexit'), 0x80000000n);
  assert.equal(run('w0 = 0x80000000\nw1 = -1\nw0 s%= w1\nexit'), 0n);
  assert.equal(run('w0 = -7\nw0 s/= 2\nexit'), 0xfffffffdn);
  // wide operands take the exact (BigInt) path
  assert.equal(run('r0 = 0xfffffffffffffff0 ll\nr1 = 0x100000001 ll\nr0 /= r1\nexit'), 0xfffffffffffffff0n / 0x100000001n);
  assert.equal(run('r0 = 0xfffffffffffffff0 ll\nr1 = 0x100000001 ll\nr0 %= r1\nexit'), 0xfffffffffffffff0n % 0x100000001n);
});

test('shifts mask their count; arsh keeps the sign; neg; byte swaps', () => {
  assert.equal(run('r0 = 1\nr1 = 64\nr0 <<= r1\nexit'), 1n);
  assert.equal(run('r0 = 1\nr1 = 65\nr0 <<= r1\nexit'), 2n);
  assert.equal(run('r0 = 1\nr0 <<= 63\nexit'), 0x8000000000000000n);
  assert.equal(run('r0 = 0x8000000000000000 ll\nr0 s>>= 63\nexit'), M64);
  assert.equal(run('r0 = 0x8000000000000000 ll\nr0 >>= 32\nexit'), 0x80000000n);
  assert.equal(run('w0 = 1\nw1 = 33\nw0 <<= w1\nexit'), 2n);
  assert.equal(run('w0 = 0x80000000\nw0 s>>= 4\nexit'), 0xf8000000n);
  assert.equal(run('r0 = -1\nw0 >>= 0\nexit'), 0xffffffffn); // 32-bit ops zero-extend even when no bits change
  assert.equal(run('r0 = 0\nr0 = -r0\nexit'), 0n);
  assert.equal(run('r0 = 1\nr0 = -r0\nexit'), M64);
  assert.equal(run('r0 = 0x100000000 ll\nr0 = -r0\nexit'), 0xffffffff00000000n);
  assert.equal(run('w0 = 0x80000000\nw0 = -w0\nexit'), 0x80000000n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = be16 r0\nexit'), 0x8877n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = be32 r0\nexit'), 0x88776655n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = be64 r0\nexit'), 0x8877665544332211n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = le16 r0\nexit'), 0x7788n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = le32 r0\nexit'), 0x55667788n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = le64 r0\nexit'), 0x1122334455667788n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = bswap16 r0\nexit'), 0x8877n);
  assert.equal(run('r0 = 0x1122334455667788 ll\nr0 = bswap64 r0\nexit'), 0x8877665544332211n);
});

test('movsx and sign-extending loads', () => {
  assert.equal(run('r1 = 0x180\nr0 = (s8)r1\nexit'), M64 - 0x7fn);
  assert.equal(run('r1 = 0x18000\nr0 = (s16)r1\nexit'), BigInt.asUintN(64, -0x8000n));
  assert.equal(run('r1 = 0x80000000\nr0 = (s32)r1\nexit'), 0xffffffff80000000n);
  assert.equal(run('r1 = 0xff\nw0 = (s8)w1\nexit'), 0xffffffffn); // 32-bit movsx zero-extends the 32-bit result
  assert.equal(run('r1 = 0x7fff\nw0 = (s16)w1\nexit'), 0x7fffn);
  const mem = Uint8Array.from([0x80, 0xff, 0x00, 0x80, 0x7f]);
  assert.equal(run('r0 = *(s8 *)(r1 +0)\nexit', mem), M64 - 0x7fn);
  assert.equal(run('r0 = *(s16 *)(r1 +0)\nexit', mem), BigInt.asUintN(64, -128n));
  assert.equal(run('r0 = *(s32 *)(r1 +0)\nexit', mem), 0xffffffff8000ff80n);
  assert.equal(run('r0 = *(s8 *)(r1 +4)\nexit', mem), 0x7fn);
  assert.equal(run('r0 = *(u32 *)(r1 +0)\nexit', mem), 0x8000ff80n);
});

test('64-bit jumps compare all 64 bits, JMP32 the low 32; gotol takes imm', () => {
  const cond = (setup: string, cmp: string): bigint => run(`${setup}\nr0 = 1\n${cmp} goto +1\nr0 = 0\nexit`);
  assert.equal(cond('r1 = 0x100000000 ll\nr2 = 0', 'if r1 > r2'), 1n);
  assert.equal(cond('r1 = 0x100000000 ll\nr2 = 0', 'if w1 > w2'), 0n);
  assert.equal(cond('r1 = -1', 'if r1 s< 0'), 1n);
  assert.equal(cond('r1 = -1', 'if r1 < 0'), 0n);
  assert.equal(cond('r1 = 0xffffffff', 'if r1 == -1'), 0n); // imm -1 is 0xffff...ffff in a 64-bit compare
  assert.equal(cond('r1 = 0xffffffff', 'if w1 == -1'), 1n);
  assert.equal(cond('r1 = 0x100000000 ll', 'if r1 & 0x1'), 0n);
  assert.equal(cond('r1 = 0x100000000 ll\nr2 = 0x100000001 ll', 'if r1 & r2'), 1n);
  assert.equal(cond('r1 = 0x7fffffff\nr2 = 0x80000000', 'if w1 s> w2'), 1n);
  assert.equal(cond('r1 = 0x7fffffff\nr2 = 0x80000000', 'if r1 s> r2'), 0n);
  assert.equal(run('r0 = 1\ngotol +1\nr0 = 2\nexit'), 1n);
});

test('atomics: fetch forms return the old value, cmpxchg compares with r0', () => {
  const mem = new Uint8Array(16);
  new DataView(mem.buffer).setBigUint64(0, 0x1122334455667788n, true);
  new DataView(mem.buffer).setUint32(8, 0xfffffff0, true);
  // 64-bit fetch add: r2 gets the old value, memory the sum
  assert.equal(run('r2 = 1\nr2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\nr0 = r2\nexit', mem), 0x1122334455667788n);
  assert.equal(run('r2 = 1\nr2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\nr0 = *(u64 *)(r1 +0)\nexit', mem), 0x1122334455667789n);
  // 32-bit fetch add wraps in 32 bits and zero-extends the old value
  assert.equal(run('r2 = -1\nw2 = atomic_fetch_add((u32 *)(r1 +8), w2)\nr0 = r2\nexit', mem), 0xfffffff0n);
  assert.equal(run('w2 = 0x20\nlock *(u32 *)(r1 +8) += w2\nr0 = *(u64 *)(r1 +8)\nexit', mem), 0x10n);
  assert.equal(run('r2 = 0xf0\nr2 = atomic64_fetch_and((u64 *)(r1 +0), r2)\nr0 = *(u64 *)(r1 +0)\nexit', mem), 0x80n);
  assert.equal(run('r2 = 0x0f\nr2 = atomic64_fetch_or((u64 *)(r1 +0), r2)\nr0 = r2\nexit', mem), 0x1122334455667788n);
  assert.equal(run('r2 = 0xff\nlock *(u64 *)(r1 +0) ^= r2\nr0 = *(u64 *)(r1 +0)\nexit', mem), 0x1122334455667777n);
  assert.equal(run('r2 = 5\nr2 = atomic64_xchg((u64 *)(r1 +0), r2)\nr0 = *(u64 *)(r1 +0)\nr0 += r2\nexit', mem), 0x1122334455667788n + 5n);
  // cmpxchg: success stores and returns the old value; failure leaves memory alone
  assert.equal(run('r0 = 0x1122334455667788 ll\nr2 = 9\nr0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)\nr3 = *(u64 *)(r1 +0)\nr0 += r3\nexit', mem), 0x1122334455667788n + 9n);
  assert.equal(run('r0 = 1\nr2 = 9\nr0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)\nr3 = *(u64 *)(r1 +0)\nr0 ^= r3\nexit', mem), 0n);
  assert.equal(run('r0 = 0xffffffff55667788 ll\nw2 = 9\nw0 = atomic_cmpxchg((u32 *)(r1 +0), w0, w2)\nexit', mem), 0x55667788n); // compares the low 32 bits only
  // misaligned atomics (only unverified programs can make them) give the same results
  assert.equal(run('r2 = 1\nr2 = atomic64_fetch_add((u64 *)(r1 +1), r2)\nr0 = *(u64 *)(r1 +1)\nr0 -= r2\nexit', mem), 1n);
});

test('bpf-to-bpf calls: r6-r9 preserved, fresh r10 per frame, 8 frames at most', () => {
  // main stores 1 at r10-8, calls f which stores 2 at its r10-8; main's slot is untouched.
  const prog = `r6 = 42
r1 = 1
*(u64 *)(r10 -8) = r1
call pc+4
r0 += r6
r1 = *(u64 *)(r10 -8)
r0 += r1
exit
r6 = 0
r1 = 2
*(u64 *)(r10 -8) = r1
r0 = r10
r0 = 100
exit`;
  assert.equal(run(prog), 100n + 42n + 1n);
  // A chain of n nested calls: 8 frames work, 9 do not.
  const chain = (n: number): string => {
    const lines: string[] = [];
    for (let i = 0; i < n - 1; i++) lines.push('call pc+1', 'exit');
    lines.push('r0 = 7', 'exit');
    return lines.join('\n');
  };
  assert.equal(run(`${chain(8)}`), 7n);
  assert.throws(() => run(chain(9)), (e: unknown) => e instanceof CallDepthExceeded && e.errno === 'E2BIG' && e.pc === 14);
});

test('faults: out-of-region, read-only, NULL, 64-bit wrap — with address, size and region', () => {
  const space = new AddressSpace({ initialPages: 2 });
  const base = space.alloc(16);
  const ro = space.addRegion({ base, size: 16, kind: 'map_value', name: 'ro value', writable: false });
  const exe = (src: string, checked?: boolean): InterpExecutable => prepare(asm(src), { space, ...(checked === undefined ? {} : { checked }) });
  // reading past the end of the region
  assert.throws(
    () => exe('r0 = *(u32 *)(r1 +14)\nexit').run({ args: [BigInt(base)] }),
    (e: unknown) =>
      e instanceof VmFault && e.errno === 'EFAULT' && e.pc === 0 && e.address === BigInt(base + 14) && e.size === 4 && e.access === 'read' &&
      e.region === ro && /crosses the end/.test(e.message),
  );
  // a write into a read-only region
  assert.throws(
    () => exe('r2 = 1\n*(u8 *)(r1 +3) = r2\nexit').run({ args: [BigInt(base)] }),
    (e: unknown) => e instanceof VmFault && e.pc === 1 && e.access === 'write' && e.region === ro && /read-only/.test(e.message),
  );
  // reads inside it are fine
  assert.equal(exe('r0 = *(u64 *)(r1 +8)\nexit').run({ args: [BigInt(base)] }), 0n);
  // NULL
  assert.throws(() => exe('r0 = *(u64 *)(r1 +0)\nexit').run({ args: [0n] }), (e: unknown) => e instanceof VmFault && e.address === 0n && /NULL/.test(e.message));
  // negative offset wraps below zero: a 64-bit address, never a JavaScript crash
  assert.throws(() => exe('r0 = *(u64 *)(r1 -16)\nexit').run({ args: [8n] }), (e: unknown) => e instanceof VmFault && e.address === BigInt.asUintN(64, -8n));
  // a pointer with high bits set
  assert.throws(() => exe('r1 = 0x100001000 ll\nr0 = *(u8 *)(r1 +0)\nexit').run(), (e: unknown) => e instanceof VmFault && e.address === 0x100001000n);
  // but a pointer whose high word is all ones plus an offset that wraps back is a valid 64-bit address computation
  assert.equal(exe('r2 = -16\nr2 += r1\nr0 = *(u64 *)(r2 +24)\nexit').run({ args: [BigInt(base)] }), 0n);
  // unchecked mode only polices the address space bounds: the unregistered gap is readable
  const outside = base + 32;
  assert.throws(() => exe('r0 = *(u8 *)(r1 +0)\nexit', true).run({ args: [BigInt(outside)] }), VmFault);
  assert.equal(exe('r0 = *(u8 *)(r1 +0)\nexit', false).run({ args: [BigInt(outside)] }), 0n);
  assert.throws(() => exe('r0 = *(u8 *)(r1 +0)\nexit', false).run({ args: [BigInt(space.size)] }), (e: unknown) => e instanceof VmFault && /outside the address space/.test(e.message));
  // the stack: 512 bytes per frame, checked mode catches overruns
  assert.throws(() => exe('r0 = *(u64 *)(r10 -520)\nexit').run(), (e: unknown) => e instanceof VmFault && e.region?.kind === 'stack');
  assert.throws(() => exe('r0 = *(u64 *)(r10 +0)\nexit').run(), VmFault);
  assert.equal(exe('r1 = 3\n*(u64 *)(r10 -512) = r1\nr0 = *(u64 *)(r10 -512)\nexit').run(), 3n);
});

test('budget: exhausting it is a typed fault, exact to the instruction', () => {
  const prog = prepare(asm('r0 = 0\nr0 += 1\nr0 += 1\nexit'));
  assert.equal(prog.run({ budget: 4 }), 2n);
  assert.throws(() => prog.run({ budget: 3 }), (e: unknown) => e instanceof BudgetExceeded && e.pc === 3 && e.budget === 3 && e.errno === 'E2BIG');
  const loop = prepare(asm('l: goto l\nexit'));
  assert.throws(() => loop.run({ budget: 100000 }), (e: unknown) => e instanceof BudgetExceeded && e.pc === 0);
  // unverified programs get a default budget; the run after a fault is unaffected
  assert.equal(prog.run(), 2n);
});

test('helpers: by id, unknown id, throwing helpers, callx; r0 gets the result', () => {
  const seen: bigint[][] = [];
  const helpers = [
    helper(1, (_e, a, b, c, d, e) => {
      seen.push([a, b, c, d, e]);
      return a + b + c + d + e;
    }),
    helper(2, () => {
      throw new TsbpfError('ENOENT', 'nothing here');
    }),
    helper(3, () => -1n), // results are taken modulo 2^64
  ];
  const exe = (src: string): bigint => prepare(asm(src), { helpers }).run();
  assert.equal(exe('r1 = 1\nr2 = 2\nr3 = 3\nr4 = 4\nr5 = -1\ncall 1\nexit'), 9n);
  assert.deepEqual(seen[0], [1n, 2n, 3n, 4n, M64]);
  assert.equal(exe('call 3\nexit'), M64);
  assert.equal(exe('r1 = 5\nr6 = 1\ncallx r6\nexit'), 5n);
  assert.throws(() => exe('call 77\nexit'), (e: unknown) => e instanceof UnknownHelper && e.helperId === 77 && /unknown#77/.test(e.message));
  assert.throws(() => exe('r6 = 99\ncallx r6\nexit'), (e: unknown) => e instanceof UnknownHelper && e.helperId === 99 && e.pc === 1);
  assert.throws(
    () => exe('call 2\nexit'),
    (e: unknown) => e instanceof HelperError && e.errno === 'ENOENT' && e.helperName === 'h2' && e.cause instanceof TsbpfError,
  );
});

test('callFunc: helpers run callbacks in a fresh frame (bpf_loop-style), sharing the frame limit and budget', () => {
  // helper 181 (bpf_loop): (nr, callback, ctx, flags) -> calls callback(i, ctx) until it returns 1
  const loopHelper = helper(181, (env, nr, cb, ctx) => {
    let i = 0n;
    for (; i < nr; i++) if (env.callFunc(Number(cb), [i, ctx]) === 1n) return i + 1n;
    return i;
  }, 'loop');
  // ctx is a stack slot of the caller; the callback adds i to it through the pointer.
  const prog = `r1 = 0
*(u64 *)(r10 -8) = r1
r1 = 10
r2 = 0x0 ll
r3 = r10
r3 += -8
r4 = 0
call 181
r6 = r0
r0 = *(u64 *)(r10 -8)
r0 <<= 8
r0 += r6
exit
r3 = *(u64 *)(r2 +0)
r3 += r1
*(u64 *)(r2 +0) = r3
*(u64 *)(r10 -8) = r3
r0 = 0
exit`;
  const insns = asm(prog);
  // make the lddw a BPF_PSEUDO_FUNC reference to insn 14 (relative to the lddw at slot 3)
  insns[3] = { ...insns[3]!, src: 4, imm: 14 - 3 - 1 };
  const exe = prepare(insns, { helpers: [loopHelper] });
  assert.equal(exe.run(), (45n << 8n) + 10n);
  // The budget covers the callback's instructions too.
  assert.throws(() => exe.run({ budget: 40 }), BudgetExceeded);
  // A callback that calls the loop helper again nests one frame deeper each time: 8 frames at most.
  const recurse = asm(`r1 = 1
r2 = 0x0 ll
r3 = 0
r4 = 0
call 181
exit`);
  recurse[1] = { ...recurse[1]!, src: 4, imm: -2 }; // the callback is the program itself (insn 0)
  assert.throws(() => prepare(recurse, { helpers: [loopHelper] }).run(), (e: unknown) => e instanceof CallDepthExceeded && e.frames === 9);
  // callFunc of something that is not an instruction start
  const bad = helper(181, (env) => env.callFunc(1, []), 'loop'); // slot 1 is the second half of an lddw
  assert.throws(() => prepare(asm('r1 = 0x5 ll\ncall 181\nexit'), { helpers: [bad] }).run(), UnsupportedInsn);
});

test('tail calls: continue in the target with the same r1, at most 33, failures fall through', () => {
  const space = new AddressSpace({ initialPages: 2 });
  const progs = new Map<number, Executable>();
  const tailCallTarget = (mapAddr: number, index: number): Executable | undefined => (mapAddr === 0x1234 ? progs.get(index) : undefined);
  // target 1: r0 = *(u64 *)(r1 + 0) + 1000 (r1 is the caller's r1)
  progs.set(1, prepare(asm('r0 = *(u64 *)(r1 +0)\nr0 += 1000\nexit'), { space, tailCallTarget }));
  const mem = space.alloc(8);
  space.addRegion({ base: mem, size: 8, kind: 'ctx', name: 'ctx', writable: true });
  space.writeU64(mem, 5n);
  const caller = prepare(asm('r6 = r1\nr2 = 0x1234\nr3 = 1\ncall 12\nr0 = 77\nexit'), { space, tailCallTarget });
  assert.equal(caller.run({ args: [BigInt(mem)] }), 1005n);
  // an empty slot or a wrong map: the call fails and execution continues after it
  assert.equal(prepare(asm('r2 = 0x1234\nr3 = 9\ncall 12\nr0 = 77\nexit'), { space, tailCallTarget }).run(), 77n);
  assert.equal(prepare(asm('r2 = 0x9999\nr3 = 1\ncall 12\nr0 = 77\nexit'), { space, tailCallTarget }).run(), 77n);
  // no resolver at all
  assert.equal(prepare(asm('r2 = 0x1234\nr3 = 1\ncall 12\nr0 = 77\nexit'), { space }).run(), 77n);
  // a program that tail-calls itself, counting in ctx: 33 tail calls succeed, then it falls through
  space.writeU64(mem, 0n);
  progs.set(2, prepare(asm('r2 = *(u64 *)(r1 +0)\nr2 += 1\n*(u64 *)(r1 +0) = r2\nr2 = 0x1234\nr3 = 2\ncall 12\nr0 = *(u64 *)(r1 +0)\nexit'), { space, tailCallTarget }));
  assert.equal(progs.get(2)!.run({ args: [BigInt(mem)] }), 34n); // the first run plus 33 tail calls
  // a tail call from a subprogram resets the frames: the target's exit ends the run
  const fromSub = prepare(asm('call pc+2\nr0 = 55\nexit\nr2 = 0x1234\nr3 = 1\ncall 12\nexit'), { space, tailCallTarget });
  space.writeU64(mem, 1n);
  assert.equal(fromSub.run({ args: [BigInt(mem)] }), 1001n);
  // a target of another engine runs to completion and its r0 is the result
  const foreign: Executable = { image: caller.image, run: (a) => 9000n + (a?.args?.[0] === BigInt(mem) ? 1n : 0n) };
  progs.set(3, foreign);
  assert.equal(prepare(asm('r2 = 0x1234\nr3 = 3\ncall 12\nr0 = 77\nexit'), { space, tailCallTarget }).run({ args: [BigInt(mem)] }), 9001n);
});

test('legacy LD_ABS/LD_IND: big-endian loads from the packet at r6, out of bounds returns 0', () => {
  const pkt = Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
  assert.equal(run('r6 = r1\nr0 = *(u32 *)skb[1]\nexit', pkt), 0x22334455n);
  assert.equal(run('r6 = r1\nr0 = *(u16 *)skb[4]\nexit', pkt), 0x5566n);
  assert.equal(run('r6 = r1\nr2 = 3\nr0 = *(u8 *)skb[r2 + 2]\nexit', pkt), 0x66n);
  assert.equal(run('r6 = r1\nr0 = *(u32 *)skb[3]\nr0 = 9\nexit', pkt), 0n); // past the end: the program returns 0
  assert.equal(run('r6 = r1\nr2 = -1\nr0 = *(u8 *)skb[r2 + 0]\nr0 = 9\nexit', pkt), 0n);
  // in a bpf-to-bpf function, out of bounds returns 0 from that function only (Linux 6.18 runs this to 100)
  assert.equal(run('r6 = r1\ncall pc+2\nr0 += 100\nexit\nr0 = *(u32 *)skb[3]\nr0 = 9\nexit', pkt), 100n);
  // with a runtime hook
  const space = new AddressSpace({ initialPages: 2 });
  const data = space.alloc(8);
  space.write(data, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const exe = prepare(asm('r6 = r1\nr0 = *(u16 *)skb[6]\nexit'), { space, checked: false });
  assert.equal(exe.run({ args: [123n], run: { legacyPacket: (ctx: bigint) => (ctx === 123n ? { data, len: 8 } : undefined) } }), 0x0708n);
});

test('unresolvable instructions are typed errors: lddw map references in raw programs, kfuncs, invalid programs', () => {
  const mapRef = [...lddw(1, 3n, 1), insn(0xb7, 0, 0, 0, 0), insn(0x95)];
  assert.throws(() => runRaw(mapRef, undefined, interp), (e: unknown) => e instanceof UnsupportedInsn && e.pc === 0 && /pseudo source 1/.test(e.message));
  assert.throws(() => prepare([insn(0x85, 0, 2, 0, 1234), insn(0x95)]).run(), (e: unknown) => e instanceof UnsupportedInsn && /kfunc/.test(e.message));
  assert.throws(() => prepare([insn(0x05, 0, 0, 5), insn(0x95)]), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
});

test('memory growth inside a helper: the program keeps running over the new buffer', () => {
  const space = new AddressSpace({ initialPages: 1, maximumPages: 64 });
  let big = 0;
  const grow = helper(50, (env) => {
    big = env.space.alloc(4 * 65536);
    env.space.writeU32(big, 0xabcd);
    return BigInt(big);
  });
  const exe = prepare(asm('r1 = 7\n*(u64 *)(r10 -8) = r1\ncall 50\nr1 = *(u32 *)(r0 +0)\nr2 = *(u64 *)(r10 -8)\nr0 = r1\nr0 += r2\nexit'), { space, helpers: [grow], checked: false });
  assert.equal(exe.run(), 0xabcdn + 7n);
  assert.ok(big > 0);
});

test('verified images run in bounds-only mode; checked mode can be forced', () => {
  const space = new AddressSpace({ initialPages: 2 });
  const a = space.alloc(64); // not registered as a region
  const src = asm('r0 = *(u64 *)(r1 +0)\nexit');
  assert.equal(prepare(src, { space, verified: true }).run({ args: [BigInt(a)] }), 0n);
  assert.throws(() => prepare(src, { space, verified: true, checked: true }).run({ args: [BigInt(a)] }), VmFault);
  assert.throws(() => prepare(src, { space }).run({ args: [BigInt(a)] }), VmFault);
});

test('the dispatch loop\'s literal case labels agree with the internal opcodes of decode.ts', async () => {
  const { readFileSync } = await import('node:fs');
  const { ROOT } = await import('./paths.js');
  const D = await import('../src/vm/interp/decode.js');
  const src = readFileSync(`${ROOT}/src/vm/interp/exec.ts`, 'utf8');
  const labels = [...src.matchAll(/case (0x[0-9a-f]+) \/\* (I_\w+) \*\//g)];
  assert.ok(labels.length >= 25);
  for (const [, value, name] of labels) assert.equal(Number(value), (D as unknown as Record<string, number>)[name!], name);
});

test('re-entrant runs: a helper running a program (even the same one) gets its own stack', () => {
  const space = new AddressSpace({ initialPages: 2 });
  let inner: InterpExecutable | undefined;
  let depth = 0;
  const reenter = helper(60, (_env, r1) => {
    if (depth > 0) return r1 * 2n;
    depth++;
    try {
      return inner!.run({ args: [r1 + 1n] });
    } finally {
      depth--;
    }
  });
  // stores r1 on its stack, calls helper 60 (which runs this same program), then adds its stack slot
  inner = prepare(asm('*(u64 *)(r10 -8) = r1\ncall 60\nr1 = *(u64 *)(r10 -8)\nr0 += r1\nexit'), { space, helpers: [reenter] });
  // outer: r1 = 5, stack 5; inner run: r1 = 6 -> helper returns 12 -> 12 + 6 = 18; outer: 18 + 5 = 23
  assert.equal(inner.run({ args: [5n] }), 23n);
});

test('a shared address space (worker threads): atomics use Atomics on the SharedArrayBuffer', () => {
  const space = new AddressSpace({ initialPages: 1, maximumPages: 4, shared: true });
  const a = space.alloc(16);
  space.addRegion({ base: a, size: 16, kind: 'map_value', name: 'counter', writable: true });
  const exe = prepare(asm('r2 = 3\nlock *(u64 *)(r1 +0) += r2\nw2 = 1\nw2 = atomic_fetch_add((u32 *)(r1 +8), w2)\nr0 = *(u64 *)(r1 +0)\nr0 += r2\nexit'), { space });
  assert.equal(exe.run({ args: [BigInt(a)] }), 3n);
  assert.equal(exe.run({ args: [BigInt(a)] }), 7n);
  assert.equal(space.readU32(a + 8), 2);
  assert.ok(space.memory.buffer instanceof SharedArrayBuffer);
});

test('may_goto: falls through BPF_MAX_LOOPS (8M) times per invocation, then jumps (Linux 6.9)', () => {
  const src = 'r0 = 0\nl: may_goto out\nr0 += 1\ngoto l\nout: exit';
  const exe = prepare(asm(src), { verified: true });
  assert.equal(exe.run({ args: [] }), 8n * 1024n * 1024n);
  // the budget is per invocation: a second run starts afresh
  assert.equal(exe.run({ args: [] }), 8n * 1024n * 1024n);
});
