import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, dataFileSource as asmSource, detectDialect } from '../src/isa/asm.js';
import { disassemble } from '../src/isa/disasm.js';
import { decode, fromHex, insn, toHex, type Insn } from '../src/isa/insn.js';
import { classifyInsn, requiredCpu, requiredGroups } from '../src/isa/groups.js';
import { AsmError } from '../src/errors.js';
import { CONFORMANCE_DIR, CONFORMANCE_MISSING, BIN } from './paths.js';

const suiteFiles = (): string[] => readdirSync(`${CONFORMANCE_DIR}/tests`).filter((f) => f.endsWith('.data')).sort();
const reference = (name: string): Insn[] => fromHex(readFileSync(`${CONFORMANCE_DIR}/bytecode/${name}.hex`, 'utf8'));
const bytes = (insns: Insn[]): string => toHex(insns);

test("every conformance test's -- asm assembles to its reference bytecode", { skip: CONFORMANCE_MISSING }, () => {
  const files = suiteFiles();
  assert.ok(files.length >= 313, `expected the whole suite, found ${files.length}`);
  for (const f of files) {
    const src = asmSource(readFileSync(`${CONFORMANCE_DIR}/tests/${f}`, 'utf8'));
    const name = f.replace(/\.data$/, '');
    assert.equal(detectDialect(src), 'conformance', name);
    assert.equal(bytes(assemble(src)), bytes(reference(name)), name);
    assert.equal(bytes(assemble(src, { dialect: 'conformance' })), bytes(reference(name)), name);
  }
});

test('conformance dialect: each form encodes as RFC 9669 lays it out', () => {
  const one = (s: string): Insn => {
    const r = assemble(s, { dialect: 'conformance' });
    assert.equal(r.length, 1, s);
    return r[0]!;
  };
  assert.deepEqual(one('mov32 %r1, 0xffffffff'), insn(0xb4, 1, 0, 0, -1));
  assert.deepEqual(one('mov %r1, %r2'), insn(0xbf, 1, 2));
  assert.deepEqual(one('ldxw %r0, [%r1+4]'), insn(0x61, 0, 1, 4));
  assert.deepEqual(one('ldxsb %r0, [%r10-1]'), insn(0x91, 0, 10, -1));
  assert.deepEqual(one('stdw [%r10-16], 0xab'), insn(0x7a, 10, 0, -16, 0xab));
  assert.deepEqual(one('stxh [%r1], %r3'), insn(0x6b, 1, 3, 0));
  assert.deepEqual(one('call 5'), insn(0x85, 0, 0, 0, 5));
  assert.deepEqual(one('call %r2'), insn(0x8d, 2)); // callx: register in dst
  assert.deepEqual(one('callx %r4'), insn(0x8d, 4));
  assert.deepEqual(one('ja +1'), insn(0x05, 0, 0, 1));
  assert.deepEqual(one('ja32 -3'), insn(0x06, 0, 0, 0, -3));
  assert.deepEqual(one('jne32 %r1, 0, +2'), insn(0x56, 1, 0, 2, 0));
  assert.deepEqual(one('jsle %r1, %r2, -1'), insn(0xdd, 1, 2, -1));
  assert.deepEqual(one('lock add [%r10-8], %r1'), insn(0xdb, 10, 1, -8, 0x00));
  assert.deepEqual(one('lock fetch xor32 [%r1+2], %r3'), insn(0xc3, 1, 3, 2, 0xa1));
  assert.deepEqual(one('lock xchg [%r10-8], %r1'), insn(0xdb, 10, 1, -8, 0xe1));
  assert.deepEqual(one('lock cmpxchg32 [%r10-8], %r1'), insn(0xc3, 10, 1, -8, 0xf1));
  assert.deepEqual(one('be16 %r3'), insn(0xdc, 3, 0, 0, 16));
  assert.deepEqual(one('le64 %r3'), insn(0xd4, 3, 0, 0, 64));
  assert.deepEqual(one('swap32 %r0'), insn(0xd7, 0, 0, 0, 32));
  assert.deepEqual(one('bswap64 %r0'), insn(0xd7, 0, 0, 0, 64));
  assert.deepEqual(one('neg %r2'), insn(0x87, 2));
  assert.deepEqual(one('neg32 %r2'), insn(0x84, 2));
  assert.deepEqual(one('movsx1632 %r1, %r2'), insn(0xbc, 1, 2, 16));
  assert.deepEqual(one('movsx3264 %r1, %r2'), insn(0xbf, 1, 2, 32));
  assert.deepEqual(one('sdiv %r1, 3'), insn(0x37, 1, 0, 1, 3));
  assert.deepEqual(one('smod32 %r1, %r2'), insn(0x9c, 1, 2, 1));
  assert.deepEqual(one('ldabsh 12'), insn(0x28, 0, 0, 0, 12));
  assert.deepEqual(one('ldindb %r3, 4'), insn(0x50, 0, 3, 0, 4));
  assert.deepEqual(assemble('lddw %r0, 0x1122334455667788', { dialect: 'conformance' }), [
    insn(0x18, 0, 0, 0, 0x55667788),
    insn(0, 0, 0, 0, 0x11223344),
  ]);
  // Labels: forward, backward, a label-only line, `call local`, and the implicit `exit`.
  const prog = assemble('start:\n  ja end\n  call local f\nend: exit\nf:\n  jeq %r1, 0, start\n  ja exit\n', { dialect: 'conformance' });
  assert.deepEqual(prog.map((i) => [i.code, i.src, i.off, i.imm]), [
    [0x05, 0, 1, 0],
    [0x85, 1, 0, 1],
    [0x95, 0, 0, 0],
    [0x15, 0, -4, 0],
    [0x05, 0, -3, 0],
  ]);
});

test('kernel dialect: verifier-log and LLVM spellings encode the same', () => {
  const cases: Array<[string, Insn[]]> = [
    ['r0 = *(u32 *)(r1 +4)', [insn(0x61, 0, 1, 4)]],
    ['r0 = *(u32 *)(r1 + 0x4)', [insn(0x61, 0, 1, 4)]],
    ['w0 = *(u32 *)(r1 + 0x4)', [insn(0x61, 0, 1, 4)]],
    ['r1 = *(s16 *)(r2 +4)', [insn(0x89, 1, 2, 4)]],
    ['*(u64 *)(r10 -8) = r1', [insn(0x7b, 10, 1, -8)]],
    ['*(u16 *)(r1 + 0x2) = w10', [insn(0x6b, 1, 10, 2)]],
    ['*(u32 *)(r10 - 0x8) = 0x5', [insn(0x62, 10, 0, -8, 5)]],
    ['w1 += w2', [insn(0x0c, 1, 2)]],
    ['r1 += -1', [insn(0x07, 1, 0, 0, -1)]],
    ['r1 = -0x1', [insn(0xb7, 1, 0, 0, -1)]],
    ['w1 = 0xffffffff', [insn(0xb4, 1, 0, 0, -1)]],
    ['r0 s/= r1', [insn(0x3f, 0, 1, 1)]],
    ['w1 s%= 3', [insn(0x94, 1, 0, 1, 3)]],
    ['r1 s>>= 7', [insn(0xc7, 1, 0, 0, 7)]],
    ['r1 = -r1', [insn(0x87, 1)]],
    ['w1 = -w1', [insn(0x84, 1)]],
    ['r1 = be16 r1', [insn(0xdc, 1, 0, 0, 16)]],
    ['r1 = le32 r1', [insn(0xd4, 1, 0, 0, 32)]],
    ['r1 = bswap64 r1', [insn(0xd7, 1, 0, 0, 64)]],
    ['r1 = (s8)r2', [insn(0xbf, 1, 2, 8)]],
    ['w1 = (s16)w2', [insn(0xbc, 1, 2, 16)]],
    ['r1 = (s32) r2', [insn(0xbf, 1, 2, 32)]],
    ['if r1 s> 0x5 goto pc+3', [insn(0x65, 1, 0, 3, 5)]],
    ['if w1 > w2 goto pc-2', [insn(0x2e, 1, 2, -2)]],
    ['if r1 == 0xffffffff goto +0x1', [insn(0x15, 1, 0, 1, -1)]],
    ['if r1 == -0x1 goto +0x1 <LBB0_2>', [insn(0x15, 1, 0, 1, -1)]],
    ['if r1 & r2 goto -0x2', [insn(0x4d, 1, 2, -2)]],
    ['goto pc+5', [insn(0x05, 0, 0, 5)]],
    ['gotol pc-70000', [insn(0x06, 0, 0, 0, -70000)]],
    ['may_goto pc+2', [insn(0xe5, 0, 0, 2)]],
    ['call bpf_map_lookup_elem#1', [insn(0x85, 0, 0, 0, 1)]],
    ['call 0x1', [insn(0x85, 0, 0, 0, 1)]],
    ['call bpf_ktime_get_ns', [insn(0x85, 0, 0, 0, 5)]],
    ['call ktime_get_ns', [insn(0x85, 0, 0, 0, 5)]],
    ['call unknown#999', [insn(0x85, 0, 0, 0, 999)]],
    ['call pc+5', [insn(0x85, 0, 1, 0, 5)]],
    ['call kernel-function#12345', [insn(0x85, 0, 2, 0, 12345)]],
    ['callx r2', [insn(0x8d, 2)]],
    ['exit', [insn(0x95)]],
    ['nospec', [insn(0xc2)]],
    ['lock *(u64 *)(r1 +0) += r2', [insn(0xdb, 1, 2, 0, 0x00)]],
    ['lock *(u32 *)(r1 + 0x0) &= w2', [insn(0xc3, 1, 2, 0, 0x50)]],
    ['r0 = atomic64_fetch_add((u64 *)(r1 +0), r0)', [insn(0xdb, 1, 0, 0, 0x01)]],
    ['r2 = atomic_fetch_or((u32 *)(r1 -8), r2)', [insn(0xc3, 1, 2, -8, 0x41)]],
    ['w2 = atomic_fetch_and((u32 *)(r1 + 0x0), w2)', [insn(0xc3, 1, 2, 0, 0x51)]],
    ['r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)', [insn(0xdb, 1, 2, 0, 0xf1)]],
    ['r0 = cmpxchg_64(r1 + 0x0, r0, r2)', [insn(0xdb, 1, 2, 0, 0xf1)]],
    ['w0 = cmpxchg32_32(r1 + 0x0, w0, w2)', [insn(0xc3, 1, 2, 0, 0xf1)]],
    ['r3 = atomic64_xchg((u64 *)(r1 +0), r3)', [insn(0xdb, 1, 3, 0, 0xe1)]],
    ['w2 = xchg32_32(r1 + 0x0, w2)', [insn(0xc3, 1, 2, 0, 0xe1)]],
    ['r0 = load_acquire((u64 *)(r1 +8))', [insn(0xdb, 0, 1, 8, 0x100)]],
    ['store_release((u32 *)(r1 +0), r2)', [insn(0xc3, 1, 2, 0, 0x110)]],
    ['r0 = *(u8 *)skb[4]', [insn(0x30, 0, 0, 0, 4)]],
    ['r0 = *(u16 *)skb[0x4]', [insn(0x28, 0, 0, 0, 4)]],
    ['r0 = *(u32 *)skb[r2 + 8]', [insn(0x40, 0, 2, 0, 8)]],
    ['r0 = *(u16 *)skb[r2]', [insn(0x48, 0, 2, 0, 0)]],
    ['r1 = addr_space_cast(r2, 0x1, 0x0)', [insn(0xbf, 1, 2, 1, 0x10000)]],
    ['r1 = &(void __percpu *)(r2)', [insn(0xbf, 1, 2, -1)]],
    ['r1 = 0x1122334455667788 ll', [insn(0x18, 1, 0, 0, 0x55667788), insn(0, 0, 0, 0, 0x11223344)]],
    ['r1 = 0x1122334455667788', [insn(0x18, 1, 0, 0, 0x55667788), insn(0, 0, 0, 0, 0x11223344)]],
    ['r2 = -1 ll', [insn(0x18, 2, 0, 0, -1), insn(0, 0, 0, 0, -1)]],
    ['r1 = map[fd:5]', [insn(0x18, 1, 1, 0, 5), insn(0)]],
    ['r1 = map[fd:5][0]+16', [insn(0x18, 1, 2, 0, 5), insn(0, 0, 0, 0, 16)]],
    ['r1 = map[idx:2]', [insn(0x18, 1, 5, 0, 2), insn(0)]],
    ['r1 = map[idx:2][0]+8', [insn(0x18, 1, 6, 0, 2), insn(0, 0, 0, 0, 8)]],
    ['r1 = btf_id[77]', [insn(0x18, 1, 3, 0, 77), insn(0)]],
    ['r1 = func[pc+4]', [insn(0x18, 1, 4, 0, 4), insn(0)]],
    ['.raw 0x0000000100000e0f', [insn(0x0f, 14, 0, 0, 1)]],
  ];
  for (const [text, want] of cases) assert.deepEqual(assemble(text, { dialect: 'kernel' }), want, text);
});

test('kernel dialect: labels, comments and pasted listings', () => {
  const src = `
; a comment
// another
# and another
entry:                       # labels may share the line
  r0 = 0
  if r1 == 0 goto out        // label target
  call helper_fn
  goto entry
helper_fn: r0 = 1
  exit
out: exit
`;
  const p = assemble(src);
  assert.deepEqual(p.map((i) => [i.code, i.src, i.off, i.imm]), [
    [0xb7, 0, 0, 0],
    [0x15, 0, 4, 0],
    [0x85, 1, 0, 1],
    [0x05, 0, -4, 0],
    [0xb7, 0, 0, 1],
    [0x95, 0, 0, 0],
    [0x95, 0, 0, 0],
  ]);
  // bpftool's `prog dump xlated` and llvm-objdump's -d listings assemble as they are.
  const bpftool = '   0: (b7) r0 = 1\n   1: (18) r1 = 0x1122334455667788\n   3: (95) exit\n';
  assert.equal(bytes(assemble(bpftool)), 'b7 00 00 00 01 00 00 00 18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11 95 00 00 00 00 00 00 00');
  const objdump = `
x.o:\tfile format elf64-bpf

Disassembly of section xdp:

0000000000000000 <prog>:
       0:\tb7 00 00 00 00 00 00 00\tr0 = 0x0
       1:\t15 01 01 00 00 00 00 00\tif r1 == 0x0 goto +0x1 <prog+0x18>
       2:\t18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr1 = 0x1122334455667788 ll
       4:\t95 00 00 00 00 00 00 00\texit
`;
  assert.equal(
    bytes(assemble(objdump)),
    'b7 00 00 00 00 00 00 00 15 01 01 00 00 00 00 00 18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11 95 00 00 00 00 00 00 00',
  );
});

/** Assert `fn` throws an AsmError on `line` whose reason matches `re`. */
function asmFails(src: string, line: number, re: RegExp, dialect: 'kernel' | 'conformance' | 'auto' = 'auto'): void {
  assert.throws(
    () => assemble(src, { dialect }),
    (e: unknown) => {
      assert.ok(e instanceof AsmError, `expected AsmError, got ${String(e)}`);
      assert.equal(e.line, line, `${e.message}`);
      assert.match(e.reason, re);
      assert.equal(e.errno, 'EINVAL');
      assert.match(e.message, new RegExp(`^line ${line}: `));
      return true;
    },
    src,
  );
}

test('errors name the line and the reason', () => {
  asmFails('mov %r0, 1\nfrob %r1, 2\nexit', 2, /unknown mnemonic 'frob'/);
  asmFails('mov %r11, 1', 1, /no register r11/);
  asmFails('mov %r1', 1, /takes 2 operands/);
  asmFails('ldxw %r0, %r1', 1, /memory operand/);
  asmFails('ldxw %r0, [%r1+70000]', 1, /16 bits/);
  asmFails('mov32 %r0, 0x100000000', 1, /32 bits/);
  asmFails('lddw %r0, 0x10000000000000000', 1, /64 bits/);
  asmFails('mov %r0, 0\n\n ja nowhere\nexit', 3, /undefined label 'nowhere'/);
  asmFails('a:\nexit\na:\nexit', 3, /defined twice/);
  asmFails('lock fetch xchg [%r1], %r2', 1, /always fetches/, 'conformance');
  asmFails('ldxsdw %r0, [%r1]', 1, /does not exist/, 'conformance');
  asmFails('r0 = 1\nr0 = r1 +', 2, /unrecognized/, 'kernel');
  asmFails('r0 = 1\nw1 += r2', 2, /same register width/, 'kernel');
  asmFails('if r1 > w2 goto +1', 1, /both operands/, 'kernel');
  asmFails('r1 = 0x80000000\nr1 += 0x80000000', 2, /sign-extended 32-bit/, 'kernel');
  asmFails('w1 = 0x1122334455667788 ll', 1, /64-bit register/, 'kernel');
  asmFails('r1 = atomic64_fetch_add((u64 *)(r1 +0), r2)', 1, /source register/, 'kernel');
  asmFails('r1 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)', 1, /r0/, 'kernel');
  asmFails('lock *(u16 *)(r1 +0) += r2', 1, /32 or 64 bits/, 'kernel');
  asmFails('r1 = be16 r2', 1, /destination register/, 'kernel');
  asmFails('w1 = (s32)w2', 1, /64-bit destination/, 'kernel');
  asmFails('goto pc+40000', 1, /out of range/, 'kernel');
  asmFails('goto far\n' + 'r0 = 0\n'.repeat(40000) + 'far: exit', 1, /16-bit range.*gotol/, 'kernel');
  asmFails('r0 = 1\n<unknown>', 2, /unrecognized/, 'kernel');
  // Hex-looking labels before an instruction stay labels.
  assert.deepEqual(assemble('goto f1\nf1: exit\nab: exit', { dialect: 'kernel' })[0], insn(0x05, 0, 0, 0));
  asmFails('.raw 0x12345678901234567', 1, /\.raw/, 'kernel');
  assert.throws(() => assemble('exit', { dialect: 'nasm' as 'kernel' }), AsmError);
});

test('dialect detection', () => {
  assert.equal(detectDialect('mov %r0, 1\nexit'), 'conformance');
  assert.equal(detectDialect('mov32 r0, 1\nexit'), 'conformance');
  assert.equal(detectDialect('r0 = 1\nexit'), 'kernel');
  assert.equal(detectDialect('   0: (b7) r0 = 1\n   1: (95) exit'), 'kernel');
  assert.equal(detectDialect('exit'), 'kernel');
});

test('CPU versions and conformance groups match the suite (163 v1, 9 v2, 82 v3, 59 v4)', { skip: CONFORMANCE_MISSING }, () => {
  const counts = [0, 0, 0, 0, 0];
  const groups = new Map<string, number>();
  for (const f of readdirSync(`${CONFORMANCE_DIR}/bytecode`)) {
    const p = fromHex(readFileSync(`${CONFORMANCE_DIR}/bytecode/${f}`, 'utf8'));
    counts[requiredCpu(p)]!++;
    for (const g of requiredGroups(p)) groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  assert.deepEqual(counts.slice(1), [163, 9, 82, 59]);
  assert.equal(groups.get('callx'), 1);
  assert.equal(groups.get('base32'), 313);
  assert.equal(groups.has('packet'), false);
  const c = (i: Insn): string => {
    const r = classifyInsn(i);
    return `v${r.cpu} ${r.group}`;
  };
  assert.equal(c(insn(0x07, 1, 0, 0, 1)), 'v1 base64');
  assert.equal(c(insn(0x04, 1, 0, 0, 1)), 'v1 base32');
  assert.equal(c(insn(0x2f, 1, 2)), 'v1 divmul64');
  assert.equal(c(insn(0x3c, 1, 2, 1)), 'v4 divmul32');
  assert.equal(c(insn(0xad, 1, 2)), 'v2 base64');
  assert.equal(c(insn(0x16, 1, 0, 0, 1)), 'v3 base32');
  assert.equal(c(insn(0xc3, 1, 2, 0, 0)), 'v3 atomic32');
  assert.equal(c(insn(0xdb, 1, 2, 0, 0xf1)), 'v3 atomic64');
  assert.equal(c(insn(0xd4, 1, 0, 0, 64)), 'v1 base64');
  assert.equal(c(insn(0xd7, 1, 0, 0, 16)), 'v4 base32');
  assert.equal(c(insn(0x06, 0, 0, 0, 1)), 'v4 base32');
  assert.equal(c(insn(0x8d, 2)), 'v1 callx');
  assert.equal(c(insn(0x85, 0, 1, 0, 1)), 'v3 base32');
  assert.equal(c(insn(0x30, 0, 0, 0, 1)), 'v1 packet');
  assert.equal(c(insn(0x91, 0, 1, 0)), 'v4 base32');
  assert.equal(c(insn(0x18, 0, 0, 0, 1)), 'v1 base64');
  assert.throws(() => classifyInsn(insn(0x0e), 7), /insn 7: unknown opcode 0x0e/);
  assert.throws(() => classifyInsn(insn(0x07, 1, 2, 0, 1), 3), /insn 3: .*reserved fields/);
  assert.equal(c(insn(0xe5, 0, 0, 2)), 'v4 base32'); // may_goto
});

const LLVM_MC = 'llvm-mc-19';
const hasTool = (t: string): boolean => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0;

test('LLVM syntax assembles as llvm-mc-19 assembles it', (t) => {
  if (!hasTool(LLVM_MC) || !hasTool('llvm-objcopy-19')) {
    t.skip(`${LLVM_MC} or llvm-objcopy-19 not installed`);
    return;
  }
  const src = [
    'r0 = 1', 'w0 = 1', 'r1 = -1', 'w1 = -1', 'r1 = r2', 'w1 = w2', 'r1 += r2', 'w1 += 5', 'r1 -= 7', 'w3 *= w4',
    'r1 /= 3', 'w1 %= w2', 'r1 |= 0x55', 'r1 &= r2', 'w1 <<= 3', 'r1 >>= r2', 'w1 s>>= 31', 'r1 ^= r1',
    'r1 s/= r2', 'w1 s%= 3', 'r1 = -r1', 'w1 = -w1', 'r1 = be16 r1', 'r1 = le32 r1', 'r1 = be64 r1',
    'r1 = bswap16 r1', 'r1 = bswap64 r1', 'r1 = (s8)r2', 'w1 = (s16)w2', 'r1 = (s32)r2',
    'r0 = *(u32 *)(r1 + 4)', 'r0 = *(u8 *)(r1 - 1)', 'r0 = *(u64 *)(r10 - 8)', 'r0 = *(s16 *)(r1 - 4)',
    'r0 = *(s8 *)(r1 + 0)', '*(u64 *)(r10 - 8) = r1', '*(u8 *)(r10 - 1) = r1', '*(u32 *)(r10 - 8) = 5',
    '*(u16 *)(r10 - 2) = -3', 'r1 = 0x1122334455667788 ll', 'r1 = 0 ll',
    'lock *(u64 *)(r1 + 0) += r2', 'lock *(u32 *)(r1 + 4) += w2', 'lock *(u64 *)(r1 + 0) |= r2',
    'lock *(u64 *)(r1 + 0) &= r2', 'lock *(u64 *)(r1 + 0) ^= r2',
    'r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)', 'w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)',
    'r2 = atomic_fetch_or((u64 *)(r1 + 8), r2)', 'w2 = atomic_fetch_xor((u32 *)(r1 + 0), w2)',
    'r2 = xchg_64(r1 + 0, r2)', 'w2 = xchg32_32(r1 + 0, w2)', 'r0 = cmpxchg_64(r1 + 0, r0, r2)',
    'w0 = cmpxchg32_32(r1 + 0, w0, w2)', 'if r1 > r2 goto +3', 'if w1 s> 5 goto -2', 'if r1 == 0xffffffff goto +1',
    'if r1 s<= -7 goto +1', 'if w1 & 0x10 goto +1', 'if r1 != r3 goto +1', 'if w1 < w2 goto +1', 'goto +1',
    'gotol +1', 'call 1', 'call -1', 'callx r2', 'r0 = *(u8 *)skb[4]', 'r0 = *(u32 *)skb[r2]', 'exit',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-asm-'));
  try {
    writeFileSync(join(dir, 'a.s'), `${src}\n`);
    execFileSync(LLVM_MC, ['-triple', 'bpfel', '-mcpu=v4', '-filetype=obj', join(dir, 'a.s'), '-o', join(dir, 'a.o')]);
    execFileSync('llvm-objcopy-19', ['-O', 'binary', '--only-section=.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
    const want = decode(readFileSync(join(dir, 'a.bin')));
    const got = assemble(src, { dialect: 'kernel' });
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assert.deepEqual(g, want[i], `slot ${i}: ${toHex([g])} vs llvm-mc ${toHex([want[i]!])}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tsbpf asm: hex lines, raw bytes, ELF object, and errors', { skip: CONFORMANCE_MISSING }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-asm-cli-'));
  try {
    const hex = execFileSync(BIN, ['asm', `${CONFORMANCE_DIR}/tests/lddw.data`], { encoding: 'utf8' });
    assert.equal(hex, '18 00 00 00 88 77 66 55\n00 00 00 00 44 33 22 11\n95 00 00 00 00 00 00 00\n');
    execFileSync(BIN, ['asm', `${CONFORMANCE_DIR}/tests/call_local.data`, '-o', join(dir, 'p.bin')]);
    assert.equal(toHex(decode(readFileSync(join(dir, 'p.bin')))), bytes(reference('call_local')));
    writeFileSync(join(dir, 'bad.s'), 'r0 = 1\nr0 = frob\nexit\n');
    const bad = spawnSync(BIN, ['asm', join(dir, 'bad.s')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /line 2: unrecognized instruction in 'r0 = frob' \(EINVAL\)/);
    const usage = spawnSync(BIN, ['asm', join(dir, 'bad.s'), '--dialect', 'x'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    execFileSync(BIN, ['asm', `${CONFORMANCE_DIR}/tests/lock_xchg.data`, '-o', join(dir, 'p.o'), '--section', 'xdp']);
    const obj = readFileSync(join(dir, 'p.o'));
    assert.deepEqual([...obj.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    // The object's program disassembles back to the same instructions.
    const dis = execFileSync(BIN, ['disasm', join(dir, 'p.o')], { encoding: 'utf8' });
    assert.match(dis, /; section xdp\nlock_xchg:\n {3}0: \(b7\) r0 = 1\n/);
    assert.equal(bytes(assemble(dis)), bytes(reference('lock_xchg')));
    if (!hasTool('llvm-objdump-19')) {
      t.diagnostic('llvm-objdump-19 not installed: not cross-checking the written object');
      return;
    }
    const od = execFileSync('llvm-objdump-19', ['-d', join(dir, 'p.o')], { encoding: 'utf8' });
    assert.match(od, /r1 = xchg_64\(r10 - 0x8, r1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mutated source only ever raises AsmError', { skip: CONFORMANCE_MISSING }, () => {
  // Lines from the suite in both dialects, with 1-3 random character edits each.
  const lines: string[] = [];
  for (const f of suiteFiles().slice(0, 120)) {
    const src = asmSource(readFileSync(`${CONFORMANCE_DIR}/tests/${f}`, 'utf8'));
    lines.push(...src.split('\n'));
    lines.push(...disassembleForFuzz(reference(f.replace(/\.data$/, ''))));
  }
  let x = 0x9e3779b9;
  const r = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const alphabet = ' %r0123456789abcdefx+-*/()[],:;#=<>&|^sw.lLuipcgoto\t';
  let errors = 0;
  for (let n = 0; n < 6000; n++) {
    let s = lines[r() % lines.length]!;
    for (let j = 1 + (r() % 3); j > 0; j--) {
      const p = r() % (s.length + 1);
      const ch = alphabet[r() % alphabet.length]!;
      const op = r() % 3;
      s = op === 0 ? s.slice(0, p) + ch + s.slice(p) : op === 1 ? s.slice(0, p) + s.slice(p + 1) : s.slice(0, p) + ch + s.slice(p + 1);
    }
    for (const dialect of ['kernel', 'conformance', 'auto'] as const) {
      try {
        assemble(s, { dialect });
      } catch (e) {
        assert.ok(e instanceof AsmError, `${dialect} ${JSON.stringify(s)}: ${String(e)}`);
        errors++;
      }
    }
  }
  assert.ok(errors > 1000, `only ${errors} of the mutations were rejected`);
});

function disassembleForFuzz(insns: Insn[]): string[] {
  return disassemble(insns).split('\n');
}

test('may_goto (Linux 6.9): labels assemble, disassemble back, validate; reserved fields refused', async () => {
  const { validateInsn, validateProgram } = await import('../src/isa/validate.js');
  const insns = assemble('r0 = 0\nl: may_goto out\nr0 += 1\ngoto l\nout: exit', { dialect: 'kernel' });
  assert.deepEqual(insns[1], insn(0xe5, 0, 0, 2));
  assert.deepEqual(insns[3], insn(0x05, 0, 0, -3));
  assert.match(disassemble(insns), /may_goto pc\+2/);
  assert.deepEqual(assemble(disassemble(insns), { dialect: 'kernel' }), insns);
  validateProgram(insns);
  assert.throws(() => validateInsn(insn(0xe5, 1, 0, 2), 0), /reserved/); // dst
  assert.throws(() => validateInsn(insn(0xe5, 0, 1, 2), 0), /reserved/); // src other than BPF_MAY_GOTO
  assert.throws(() => validateInsn(insn(0xe5, 0, 0, 2, 1), 0), /reserved/); // imm
  assert.throws(() => validateInsn(insn(0xed, 0, 0, 2), 0), /unknown opcode/); // X source
  assert.throws(() => validateInsn(insn(0xe6, 0, 0, 2), 0), /unknown opcode/); // JMP32 class
});
