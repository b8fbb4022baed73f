import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/isa/asm.js';
import { disassemble, disassembleLines, formatInsn, type DisasmOptions, type ListingOptions } from '../src/isa/disasm.js';
import { decode, encode, fromHex, insn, lddw, toHex, type Insn } from '../src/isa/insn.js';
import { validateInsn } from '../src/isa/validate.js';
import { isLinuxExtension } from '../src/isa/groups.js';
import { HELPER_NAMES, helperId, helperName } from '../src/uapi/helper-ids.js';
import { writeObject } from '../src/object/writer.js';
import { BIN, CONFORMANCE_DIR, CONFORMANCE_MISSING, MULTIARCH_INCLUDE, ROOT } from './paths.js';
import { xorshift32 as rng } from './support/random.js';

const k = (insns: Insn[], opts: DisasmOptions = {}): string => formatInsn(insns, 0, opts);
const l = (insns: Insn[], opts: DisasmOptions = {}): string => formatInsn(insns, 0, { ...opts, dialect: 'llvm' });
const roundTrip = (insns: Insn[], opts: ListingOptions = {}): void => {
  const text = disassemble(insns, opts);
  assert.equal(toHex(assemble(text, { dialect: 'kernel' })), toHex(insns), text);
};

test('kernel dialect prints what kernel/bpf/disasm.c prints', () => {
  const cases: Array<[Insn[], string]> = [
    [[insn(0x61, 0, 1, 4)], 'r0 = *(u32 *)(r1 +4)'],
    [[insn(0x79, 2, 10, -8)], 'r2 = *(u64 *)(r10 -8)'],
    [[insn(0x89, 1, 2, 4)], 'r1 = *(s16 *)(r2 +4)'],
    [[insn(0x0c, 1, 2)], 'w1 += w2'],
    [[insn(0x07, 1, 0, 0, -1)], 'r1 += -1'],
    [[insn(0xb7, 2, 0, 0, 0x7fffffff)], 'r2 = 2147483647'],
    [[insn(0xb4, 1, 0, 0, -5)], 'w1 = -5'],
    [[insn(0x3f, 0, 1, 1)], 'r0 s/= r1'],
    [[insn(0x94, 0, 0, 1, 7)], 'w0 s%= 7'],
    [[insn(0xc7, 5, 0, 0, 3)], 'r5 s>>= 3'],
    [[insn(0x87, 5)], 'r5 = -r5'],
    [[insn(0x84, 4)], 'w4 = -w4'],
    [[insn(0xdc, 5, 0, 0, 16)], 'r5 = be16 r5'],
    [[insn(0xd4, 5, 0, 0, 32)], 'r5 = le32 r5'],
    [[insn(0xd7, 4, 0, 0, 64)], 'r4 = bswap64 r4'],
    [[insn(0xbf, 6, 5, 8)], 'r6 = (s8)r5'],
    [[insn(0xbc, 7, 4, 16)], 'w7 = (s16)w4'],
    [[insn(0xbf, 8, 5, 32)], 'r8 = (s32)r5'],
    [[insn(0x7b, 10, 5, -8)], '*(u64 *)(r10 -8) = r5'],
    [[insn(0x62, 10, 0, -16, -3)], '*(u32 *)(r10 -16) = -3'],
    [[insn(0xdb, 1, 2, 0, 0x00)], 'lock *(u64 *)(r1 +0) += r2'],
    [[insn(0xc3, 1, 2, 0, 0xa0)], 'lock *(u32 *)(r1 +0) ^= r2'],
    [[insn(0xdb, 1, 2, 0, 0x41)], 'r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)'],
    [[insn(0xc3, 1, 2, 0, 0x51)], 'r2 = atomic_fetch_and((u32 *)(r1 +0), r2)'],
    [[insn(0xdb, 1, 2, 0, 0xf1)], 'r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)'],
    [[insn(0xdb, 1, 2, 0, 0xe1)], 'r2 = atomic64_xchg((u64 *)(r1 +0), r2)'],
    [[insn(0xdb, 0, 1, 8, 0x100)], 'r0 = load_acquire((u64 *)(r1 +8))'],
    [[insn(0xc3, 1, 2, 0, 0x110)], 'store_release((u32 *)(r1 +0), r2)'],
    [[insn(0x65, 2, 0, 1, 5)], 'if r2 s> 0x5 goto pc+1'],
    [[insn(0x2e, 2, 3, -2)], 'if w2 > w3 goto pc-2'],
    [[insn(0x15, 1, 0, 0, -1)], 'if r1 == 0xffffffff goto pc+0'],
    [[insn(0x4d, 1, 2, 0)], 'if r1 & r2 goto pc+0'],
    [[insn(0x05, 0, 0, 3)], 'goto pc+3'],
    [[insn(0x06, 0, 0, 0, -9)], 'gotol pc-9'],
    [[insn(0xe5, 0, 0, 4)], 'may_goto pc+4'],
    [[insn(0x85, 0, 0, 0, 1)], 'call bpf_map_lookup_elem#1'],
    [[insn(0x85, 0, 0, 0, 211)], 'call bpf_cgrp_storage_delete#211'],
    [[insn(0x85, 0, 0, 0, 5000)], 'call unknown#5000'],
    [[insn(0x85, 0, 1, 0, 5)], 'call pc+5'],
    [[insn(0x85, 0, 2, 0, 1234)], 'call kernel-function#1234'],
    [[insn(0x8d, 2)], 'callx r2'],
    [[insn(0x95)], 'exit'],
    [[insn(0x30, 0, 0, 0, 4)], 'r0 = *(u8 *)skb[4]'],
    [[insn(0x40, 0, 2, 0, 8)], 'r0 = *(u32 *)skb[r2 + 8]'],
    [[insn(0xbf, 1, 2, 1, 0x10000)], 'r1 = addr_space_cast(r2, 1, 0)'],
    [[insn(0xbf, 1, 2, -1)], 'r1 = &(void __percpu *)(r2)'],
    [[insn(0xc2)], 'nospec'],
    [lddw(1, 0x1122334455667788n), 'r1 = 0x1122334455667788 ll'],
    [lddw(1, 0n), 'r1 = 0x0 ll'],
    [lddw(1, 5n, 1), 'r1 = map[fd:5]'],
    [lddw(1, (16n << 32n) | 5n, 2), 'r1 = map[fd:5][0]+16'],
    [lddw(1, 2n, 5), 'r1 = map[idx:2]'],
    [lddw(1, (8n << 32n) | 2n, 6), 'r1 = map[idx:2][0]+8'],
    [lddw(1, 77n, 3), 'r1 = btf_id[77]'],
    [lddw(1, 4n, 4), 'r1 = func[pc+4]'],
    // Not instructions: printed as the 64-bit word so they survive a round trip.
    [[insn(0x0f, 1, 2, 0, 1)], '.raw 0x000000010000210f'],
    [[insn(0x07, 11, 0, 0, 1)], '.raw 0x0000000100000b07'],
    [lddw(1, 1n << 32n, 1), '.raw 0x0000000000001118\n.raw 0x0000000100000000'],
  ];
  for (const [insns, want] of cases) assert.equal(k(insns), want, toHex(insns));
  assert.equal(k(lddw(1, 0x1122334455667788n), { ll: false }), 'r1 = 0x1122334455667788');
  assert.throws(() => formatInsn([], 0), /insn 0: no instruction at index 0/);
});

test('resolvers name helpers, kfuncs and map references', () => {
  assert.equal(k([insn(0x85, 0, 0, 0, 1)], { helperName: (id) => (id === 1 ? 'lookup' : undefined) }), 'call lookup#1');
  assert.equal(k([insn(0x85, 0, 0, 0, 300)], { helperName: () => undefined }), 'call unknown#300');
  assert.equal(k([insn(0x85, 0, 2, 0, 99)], { kfuncName: () => 'bpf_obj_new_impl' }), 'call bpf_obj_new_impl#99');
  assert.equal(k(lddw(1, 3n, 1), { imm64: (p, i) => `map[id:${p[i]!.imm}]` }), 'r1 = map[id:3]');
  // A resolved kfunc name assembles back as a kfunc when the assembler is told the name.
  assert.deepEqual(assemble('call bpf_obj_new_impl#99', { dialect: 'kernel', kfuncs: new Set(['bpf_obj_new_impl']) }), [insn(0x85, 0, 2, 0, 99)]);
  assert.equal(HELPER_NAMES.length, 212);
  assert.equal(helperName(0), 'bpf_unspec');
  assert.equal(helperName(12), 'bpf_tail_call');
  assert.equal(helperName(212), undefined);
  assert.equal(helperId('bpf_trace_printk'), 6);
  assert.equal(helperId('ringbuf_output'), 130);
});

test('llvm dialect prints what llvm-objdump-19 prints', () => {
  const cases: Array<[Insn[], string, string?]> = [
    [[insn(0xb7, 0, 0, 0, 1)], 'r0 = 0x1'],
    [[insn(0xb7, 1, 0, 0, -1)], 'r1 = -0x1'],
    [[insn(0x04, 0, 0, 0, -0x80000000)], 'w0 += -0x80000000'],
    [[insn(0x61, 0, 1, 4)], 'r0 = *(u32 *)(r1 + 0x4)', 'w0 = *(u32 *)(r1 + 0x4)'],
    [[insn(0x81, 1, 2, 0)], 'r1 = *(s32 *)(r2 + 0x0)', 'r1 = *(s32 *)(r2 + 0x0)'],
    [[insn(0x7b, 10, 1, -8)], '*(u64 *)(r10 - 0x8) = r1'],
    [[insn(0x6b, 1, 10, 2)], '*(u16 *)(r1 + 0x2) = r10', '*(u16 *)(r1 + 0x2) = w10'],
    [[insn(0x62, 10, 0, -8, 5)], '*(u32 *)(r10 - 0x8) = 0x5'],
    [[insn(0x3f, 1, 2, 1)], 'r1 s/= r2'],
    [[insn(0xbf, 1, 2, 8)], 'r1 = (s8)r2'],
    [[insn(0xdb, 1, 2, 0, 0x00)], 'lock *(u64 *)(r1 + 0x0) += r2'],
    [[insn(0xdb, 1, 2, 0, 0x01)], 'r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)'],
    [[insn(0xdb, 1, 2, 0, 0xe1)], 'r2 = xchg_64(r1 + 0x0, r2)'],
    [[insn(0xdb, 1, 2, 0, 0xf1)], 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)'],
    [[insn(0xc3, 1, 2, 0, 0x00)], 'lock *(u32 *)(r1 + 0x0) += r2', 'lock *(u32 *)(r1 + 0x0) += w2'],
    [[insn(0xc3, 1, 2, 0, 0x01)], 'lock *(u32 *)(r1 + 0x0) += r2', 'w2 = atomic_fetch_add((u32 *)(r1 + 0x0), w2)'],
    [[insn(0xc3, 1, 2, 0, 0x50)], '<unknown>', 'lock *(u32 *)(r1 + 0x0) &= w2'],
    [[insn(0xc3, 1, 2, 0, 0xe1)], '<unknown>', 'w2 = xchg32_32(r1 + 0x0, w2)'],
    [[insn(0xc3, 1, 2, 0, 0xf1)], '<unknown>', 'w0 = cmpxchg32_32(r1 + 0x0, w0, w2)'],
    [[insn(0x2d, 1, 2, 3)], 'if r1 > r2 goto +0x3'],
    [[insn(0x66, 1, 0, -2, 5)], 'if w1 s> 0x5 goto -0x2'],
    [[insn(0x15, 1, 0, 1, -1)], 'if r1 == -0x1 goto +0x1'],
    [[insn(0x05, 0, 0, 0)], 'goto +0x0'],
    [[insn(0x06, 0, 0, 0, 1)], 'gotol +0x1'],
    [[insn(0x85, 0, 0, 0, 1)], 'call 0x1'],
    [[insn(0x85, 0, 1, 0, -1)], 'call -0x1'],
    [[insn(0x8d, 2)], 'callx r2'],
    [[insn(0x30, 0, 0, 0, 4)], 'r0 = *(u8 *)skb[0x4]'],
    [[insn(0x48, 0, 2, 0, 4)], 'r0 = *(u16 *)skb[r2]'],
    [[insn(0xbf, 1, 2, 1, 0x10000)], 'r1 = addr_space_cast(r2, 0x1, 0x0)'],
    [[insn(0xe5, 0, 0, 0)], 'may_goto +0x0'],
    [lddw(1, 0x1122334455667788n), 'r1 = 0x1122334455667788 ll'],
    [lddw(0, 0n), 'r0 = 0x0 ll'],
    [[insn(0x0f, 1, 2, 0, 1)], '<unknown>'],
  ];
  for (const [insns, plain, alu32] of cases) {
    assert.equal(l(insns), plain, toHex(insns));
    assert.equal(l(insns, { alu32: true }), alu32 ?? plain, `${toHex(insns)} alu32`);
  }
});

test('every conformance program disassembles and re-assembles to the same bytes', { skip: CONFORMANCE_MISSING }, () => {
  const dir = `${CONFORMANCE_DIR}/bytecode`;
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.hex'))) {
    const insns = fromHex(readFileSync(`${dir}/${f}`, 'utf8'));
    for (const line of disassembleLines(insns)) assert.ok(!line.text.startsWith('.raw'), `${f}: ${line.text}`);
    roundTrip(insns);
    const listing = disassemble(insns, { lineNumbers: true, opcodes: true });
    assert.equal(toHex(assemble(listing)), toHex(insns), listing);
    const labelled = disassemble(insns, { labels: true });
    assert.equal(toHex(assemble(labelled)), toHex(insns), labelled);
    if (insns.some((i) => (i.code & 0x07) === 0x05 && ![0x85, 0x8d, 0x95].includes(i.code))) assert.match(labelled, /^L\d+:$/m, f);
    // The LLVM dialect re-assembles too wherever it is not lossy (no bpf-to-bpf calls here but call_local).
    if (!insns.some((i) => i.code === 0x85 && i.src === 1)) {
      const text = disassemble(insns, { dialect: 'llvm', alu32: true });
      assert.equal(toHex(assemble(text, { dialect: 'kernel' })), toHex(insns), `${f} (llvm)\n${text}`);
    }
    n++;
  }
  assert.ok(n >= 313);
});

const isValid = (ins: Insn): boolean => {
  try {
    validateInsn(ins, 0);
    return true;
  } catch {
    return false;
  }
};

test('sweep: every valid opcode and field combination round-trips', () => {
  const offs = [0, 1, -1, 8, 16, 32, 0x7fff, -0x8000];
  // imm values that matter: widths of END, atomic operations, extremes.
  const imms = [0, -1, 16, 32, 64, 0x7fffffff, -0x80000000, 0x01, 0x41, 0x50, 0xa1, 0xe1, 0xf1, 0x100, 0x110];
  const slots: Insn[] = [];
  let valid = 0;
  const validCodes = new Set<number>();
  const push = (ins: Insn): void => {
    if (ins.code === 0x18) return; // lddw: pairs are swept below
    if (isValid(ins)) valid++, validCodes.add(ins.code);
    slots.push(ins);
  };
  // Each field varied on its own from two bases (register source, immediate
  // source): that reaches every valid form, since validity couples at most
  // the opcode with one other field (END widths, MOVSX/SDIV offsets, atomic ops).
  for (let code = 0; code < 256; code++) {
    for (const [bd, bs] of [[1, 2], [1, 0]] as const) {
      for (let r = 0; r <= 10; r++) push(insn(code, r, bs, 0, 0)), push(insn(code, bd, r, 0, 0));
      for (const off of offs) push(insn(code, bd, bs, off, 0));
      for (const imm of imms) push(insn(code, bd, bs, 0, imm));
    }
    for (const off of offs) push(insn(code, 0, 0, off, 1)); // JMP|JA with imm set, CALL with off, ...
  }
  // Only valid ones print as instructions; the rest as `.raw` (also checked to round-trip).
  const text = slots.map((s, i) => {
    const t = formatInsn(slots, i);
    const ok = (isValid(s) || isLinuxExtension(s)) && !(s.code === 0x85 && s.src === 2 && s.off !== 0);
    assert.equal(t.startsWith('.raw'), !ok, `${toHex([s])}: ${t}`);
    return t;
  });
  assert.ok(valid > 5000, `only ${valid} valid combinations`);
  // RFC 9669 has 128 opcode bytes (with lddw, swept below), and validateInsn
  // also accepts Linux's may_goto (0xe5); every one is reached.
  assert.equal(validCodes.size, 128);
  assert.ok(validCodes.has(0xe5));
  assert.equal(toHex(assemble(text.join('\n'), { dialect: 'kernel' })), toHex(slots));
  // lddw with every pseudo source and assorted values, plus broken pairs.
  const pairs: Insn[] = [];
  for (let src = 0; src <= 6; src++)
    for (const v of [0n, 1n, 0xffffffffn, 1n << 32n, 0x1122334455667788n, (1n << 64n) - 1n, 0x8000000000000000n])
      for (const dst of [0, 1, 10]) pairs.push(...lddw(dst, v, src));
  pairs.push(insn(0x18, 1, 0, 0, 5), insn(0x95)); // second slot is not a continuation
  pairs.push(insn(0x18, 1, 0, 2, 5), insn(0, 0, 0, 0, 1)); // off set
  pairs.push(insn(0x18, 11, 0, 0, 5), insn(0, 0, 0, 0, 1)); // bad register
  roundTrip(pairs);
  roundTrip([insn(0x18, 1, 0, 0, 5)]); // first half at the very end
  // Random slots: anything at all survives the round trip.
  const r = rng(0x5eed);
  const random: Insn[] = Array.from({ length: 5000 }, () => {
    const a = r();
    const b = r();
    return insn(a & 0xff, (a >>> 8) & 0xf, (a >>> 12) & 0xf, a >>> 16, b | 0);
  });
  roundTrip(random);
  roundTrip(random, { labels: true });
});

test('llvm dialect agrees with itself through the assembler on every valid instruction it can express', () => {
  const slots: Insn[] = [];
  for (let code = 0; code < 256; code++)
    for (const [dst, src, off, imm] of [[1, 2, 0, 0], [3, 0, -4, 16], [0, 9, 7, 0x41], [10, 1, -8, 0xf1], [2, 0, 1, 64]] as const) {
      const ins = insn(code, dst, src, off, imm);
      if (code !== 0x18 && isValid(ins) && !(code === 0x85 && src !== 0) && (code & 0xe7) !== 0x40) slots.push(ins);
    }
  const text = slots.map((_, i) => formatInsn(slots, i, { dialect: 'llvm', alu32: true }));
  assert.equal(toHex(assemble(text.join('\n'), { dialect: 'kernel' })), toHex(slots));
});

// --- Against the real tools ------------------------------------------------------------

const has = (cmd: string, args = ['--version']): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const FIXTURES_ASM = join(ROOT, 'test', 'fixtures-asm');

interface Built {
  obj: string;
  mcpu: string;
}

function buildFixtures(dir: string): Built[] {
  const out: Built[] = [];
  for (const c of readdirSync(FIXTURES_ASM).filter((f) => f.endsWith('.c'))) {
    // subprog_atomics uses signed division and 32-bit atomics: v4 only. jumps
    // shows each CPU's branches (v2: jlt/jle, v3: jmp32); the others need fewer.
    const CPUS: Record<string, string[]> = {
      'subprog_atomics.c': ['v4'],
      'jumps.c': ['v1', 'v2', 'v3', 'v4'],
      'legacy_packet.c': ['v1'],
    };
    const cpus = CPUS[c] ?? ['v1', 'v3', 'v4'];
    for (const mcpu of cpus) {
      const obj = join(dir, `${c.replace(/\.c$/, '')}.${mcpu}.o`);
      execFileSync('clang-19', ['-O2', '-g', '-target', 'bpf', `-mcpu=${mcpu}`, MULTIARCH_INCLUDE, '-c', join(FIXTURES_ASM, c), '-o', obj], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      out.push({ obj, mcpu });
    }
  }
  return out;
}

/** llvm-objdump's instruction text per section, by slot index. */
function objdump(obj: string, mcpu?: string): Map<string, Map<number, string>> {
  const text = execFileSync('llvm-objdump-19', ['-d', ...(mcpu ? [`--mcpu=${mcpu}`] : []), obj], { encoding: 'utf8' });
  const secs = new Map<string, Map<number, string>>();
  let cur: Map<number, string> | undefined;
  for (const line of text.split('\n')) {
    const s = /^Disassembly of section (.*):$/.exec(line);
    if (s) secs.set(s[1]!, (cur = new Map()));
    const m = /^\s*(\d+):\t[0-9a-f ]+\t(.*)$/.exec(line);
    if (m && cur) cur.set(Number(m[1]), m[2]!.replace(/(\S)\s+<[^<>]*>$/, '$1'));
  }
  return secs;
}

function sectionBytes(obj: string, section: string, dir: string): Insn[] {
  const out = join(dir, 'section.bin');
  execFileSync('llvm-objcopy-19', ['-O', 'binary', `--only-section=${section}`, obj, out]);
  return decode(readFileSync(out));
}

test('clang-19 objects: kernel dialect round-trips, llvm dialect matches llvm-objdump-19', (t) => {
  const missing = ['clang-19', 'llvm-objdump-19', 'llvm-objcopy-19'].filter((c) => !has(c));
  if (missing.length) {
    t.skip(`not installed: ${missing.join(', ')}`);
    return;
  }
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) {
    t.skip('libbpf-dev headers (bpf/bpf_helpers.h) not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-disasm-'));
  try {
    let compared = 0;
    for (const { obj, mcpu } of buildFixtures(dir)) {
      // Plain `llvm-objdump -d`, and with the CPU the object was built for (alu32 from v3 on).
      for (const [odCpu, alu32] of [[undefined, false], [mcpu, mcpu === 'v3' || mcpu === 'v4']] as const) {
        for (const [section, lines] of objdump(obj, odCpu)) {
          const insns = sectionBytes(obj, section, dir);
          assert.ok(insns.length > 0, `${obj} ${section}`);
          roundTrip(insns);
          for (const [i, want] of lines) {
            assert.equal(formatInsn(insns, i, { dialect: 'llvm', alu32 }), want, `${obj} ${section} insn ${i} (objdump --mcpu=${odCpu ?? 'default'})`);
            compared++;
          }
        }
      }
    }
    assert.ok(compared > 300, `compared only ${compared} instructions`);
    // `tsbpf disasm` on an object: relocated map loads named, C source from BTF line_info, and
    // the listing assembles back to the relocated instructions.
    const obj = join(dir, 'maps_helpers.v3.o');
    const listing = execFileSync(BIN, ['disasm', obj], { encoding: 'utf8' });
    assert.match(listing, /^; section xdp\ncount_packets:\n/);
    assert.match(listing, /\n; __u64 \*v = bpf_map_lookup_elem\(&counts, &key\);\n +\d+: \(18\) r1 = map\[fd:0\]\t; map counts\n +\d+: \(85\) call bpf_map_lookup_elem#1\n/);
    const relocated = assemble(listing);
    assert.equal(relocated.length, sectionBytes(obj, 'xdp', dir).length);
    // map fd (lookup), map value (.rodata), map fd (update)
    assert.deepEqual(relocated.filter((i) => i.code === 0x18).map((i) => i.src), [1, 2, 1]);
    t.diagnostic(`${compared} instructions compared with llvm-objdump-19`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel dialect matches the verifier log of the running kernel', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to load programs');
  if (!has('bpftool', ['version'])) return t.skip('bpftool not installed');
  if (!existsSync('/sys/fs/bpf') || spawnSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf "']).status !== 0)
    return t.skip('bpffs is not mounted at /sys/fs/bpf');
  // Every instruction the kernel verifies in a socket filter without maps, v1 to v4.
  const src = `
    r6 = r1
    r0 = *(u8 *)skb[14]
    r7 = 4
    r0 = *(u16 *)skb[r7 + -2]
    r0 = 0
    w1 = -5
    r2 = 2147483647
    r3 = r1
    w4 = w1
    r3 += -1
    w4 -= 7
    r3 *= r2
    w4 /= 3
    r3 %= r1
    r5 = 0x1122334455667788 ll
    r5 s>>= 3
    w4 s>>= w3
    r5 ^= r3
    r5 = -r5
    w4 = -w4
    r5 = be16 r5
    r5 = le32 r5
    r5 = be64 r5
    r4 = bswap32 r4
    r6 = (s8)r5
    w7 = (s16)w4
    r8 = (s32)r5
    r0 s/= r8
    w0 s%= 7
    *(u64 *)(r10 -8) = r5
    *(u32 *)(r10 -16) = -3
    *(u16 *)(r10 -14) = r4
    *(u8 *)(r10 -13) = 9
    r1 = *(u64 *)(r10 -8)
    r2 = *(s32 *)(r10 -16)
    r2 = *(s16 *)(r10 -14)
    r2 = *(s8 *)(r10 -13)
    r1 = r10
    r1 += -8
    r2 = 1
    lock *(u64 *)(r1 +0) += r2
    r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)
    r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)
    r2 = atomic64_xchg((u64 *)(r1 +0), r2)
    lock *(u32 *)(r1 +0) ^= r2
    r2 = atomic_fetch_and((u32 *)(r1 +0), r2)
    if r2 s> 0x5 goto pc+1
    if w2 > w3 goto pc+0
    if r1 == 0xffffffff goto pc+0
    if w1 s<= 0x7 goto pc+0
    if r1 & r2 goto pc+0
    gotol pc+0
    call bpf_ktime_get_ns#5
    call pc+2
    r0 = 0
    exit
    r0 = 1
    exit`;
  const insns = assemble(src, { dialect: 'kernel' });
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kdis-'));
  const pin = `/sys/fs/bpf/tsbpf_disasm_test_${process.pid}`;
  try {
    writeFileSync(join(dir, 'p.o'), writeObject({ programs: [{ name: 'p', section: 'socket', insns }], license: 'GPL' }));
    const r = spawnSync('bpftool', ['-d', 'prog', 'load', join(dir, 'p.o'), pin], { encoding: 'utf8' });
    if (r.status !== 0) return t.skip(`the kernel did not load the program: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    const log = new Map<number, string>();
    for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
      const m = /^(\d+): (\([0-9a-f]{2}\) .*?)(?:\s+;.*)?$/.exec(line);
      if (m) log.set(Number(m[1]), m[2]!.trimEnd());
    }
    const ours = disassembleLines(insns, { ll: false });
    assert.ok(log.size >= ours.length - 2, `verifier log has ${log.size} instructions`);
    for (const d of ours) {
      const want = log.get(d.index);
      if (want === undefined) continue; // not visited on the logged paths
      assert.equal(`(${d.code.toString(16).padStart(2, '0')}) ${d.text}`, want, `insn ${d.index}`);
    }
  } finally {
    spawnSync('rm', ['-f', pin]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tsbpf disasm: raw, hex text, -j, and both dialects', { skip: CONFORMANCE_MISSING }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-disasm-cli-'));
  try {
    const insns = fromHex(readFileSync(`${CONFORMANCE_DIR}/bytecode/lock_fetch_and32.hex`, 'utf8'));
    writeFileSync(join(dir, 'p.bin'), encode(insns));
    const out = execFileSync(BIN, ['disasm', join(dir, 'p.bin')], { encoding: 'utf8' });
    assert.match(out, /^ {3}0: \(18\) r0 = 0x123456789abcdef0 ll\n {3}2: \(7b\) \*\(u64 \*\)\(r10 -8\) = r0\n/);
    assert.match(out, / {3}5: \(c3\) r1 = atomic_fetch_and\(\(u32 \*\)\(r10 -8\), r1\)\n/);
    assert.equal(toHex(assemble(out)), toHex(insns));
    const fromHexFile = execFileSync(BIN, ['disasm', `${CONFORMANCE_DIR}/bytecode/lock_fetch_and32.hex`], { encoding: 'utf8' });
    assert.equal(fromHexFile, out);
    const labelled = execFileSync(BIN, ['disasm', '--labels', `${CONFORMANCE_DIR}/bytecode/call_local.hex`], { encoding: 'utf8' });
    assert.match(labelled, / {2}10: \(85\) call L20\n {2}11: \(55\) if r0 != 0xf goto L18\n/);
    assert.match(labelled, /\nL20:\n {2}20: \(b7\) r0 = 0\n/);
    assert.equal(toHex(assemble(labelled)), toHex(fromHex(readFileSync(`${CONFORMANCE_DIR}/bytecode/call_local.hex`, 'utf8'))));
    const llvm = execFileSync(BIN, ['disasm', join(dir, 'p.bin'), '--dialect', 'llvm', '--alu32'], { encoding: 'utf8' });
    assert.match(llvm, / {7}5:\tc3 1a f8 ff 51 00 00 00\tw1 = atomic_fetch_and\(\(u32 \*\)\(r10 - 0x8\), w1\)\n/);
    const j = JSON.parse(execFileSync(BIN, ['disasm', '-j', join(dir, 'p.bin')], { encoding: 'utf8' })) as {
      insns: Array<{ index: number; code: number; bytes: string; text: string }>;
    };
    assert.deepEqual(j.insns[0], { index: 0, code: 0x18, bytes: '18000000f0debc9a0000000078563412', text: 'r0 = 0x123456789abcdef0 ll' });
    // A conformance test: its -- asm section, or (when it has only that) its -- raw words.
    assert.equal(
      execFileSync(BIN, ['disasm', `${CONFORMANCE_DIR}/tests/callx.data`], { encoding: 'utf8' }),
      '   0: (b7) r1 = -1\n   1: (b7) r2 = 5\n   2: (8d) callx r2\n   3: (b7) r0 = 2\n   4: (95) exit\n',
    );
    writeFileSync(join(dir, 'raw.data'), '-- raw\n0x5566778800000018\n0x1122334400000000\n0x0000000000000095\n-- result\n0x1\n');
    assert.equal(
      execFileSync(BIN, ['disasm', join(dir, 'raw.data')], { encoding: 'utf8' }),
      '   0: (18) r0 = 0x1122334455667788 ll\n   2: (95) exit\n',
    );
    writeFileSync(join(dir, 'odd.bin'), new Uint8Array(12));
    const bad = spawnSync(BIN, ['disasm', join(dir, 'odd.bin')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /multiple of 8 bytes, got 12/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
