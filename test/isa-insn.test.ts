import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { decode, encode, fromHex, lddw, lddwImm64, insn } from '../src/isa/insn.js';
import { validateProgram } from '../src/isa/validate.js';
import { InstructionError } from '../src/errors.js';
import { CONFORMANCE_DIR, CONFORMANCE_MISSING } from './paths.js';

test('decode/encode round-trip every conformance program, both byte orders', { skip: CONFORMANCE_MISSING }, () => {
  const dir = `${CONFORMANCE_DIR}/bytecode`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.hex'));
  assert.ok(files.length >= 300, `expected the suite's bytecode, found ${files.length}`);
  for (const f of files) {
    const insns = fromHex(readFileSync(`${dir}/${f}`, 'utf8'));
    const le = encode(insns, 'le');
    assert.deepEqual(decode(le, 'le'), insns, f);
    assert.deepEqual(decode(encode(insns, 'be'), 'be'), insns, f);
    validateProgram(insns);
  }
});

test('big-endian objects swap the register nibbles and the immediate byte order', () => {
  const ins = insn(0xb7, 1, 2, 0x1234, 0x01020304);
  const be = encode([ins], 'be');
  assert.deepEqual(Array.from(be), [0xb7, 0x12, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04]);
  const le = encode([ins], 'le');
  assert.deepEqual(Array.from(le), [0xb7, 0x21, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01]);
});

test('lddw carries a 64-bit immediate in two slots', () => {
  const pair = lddw(3, 0x1122334455667788n);
  assert.equal(lddwImm64(pair, 0), 0x1122334455667788n);
  assert.equal(lddwImm64(lddw(0, -1n), 0), 0xffffffffffffffffn);
});

const EXIT = insn(0x95);
function rejects(insns: ReturnType<typeof insn>[], index: number, pattern: RegExp): void {
  assert.throws(
    () => validateProgram(insns),
    (e: unknown) => e instanceof InstructionError && e.index === index && pattern.test(e.reason) && e.errno === 'EINVAL',
  );
}

test('validation rejects malformed programs with the index and reason', () => {
  rejects([], 0, /empty/);
  rejects([insn(0xb7, 0, 0, 0, 1)], 0, /last insn/);
  rejects([insn(0x05, 0, 0, 5), EXIT], 0, /jump out of range/);
  rejects([insn(0x05, 0, 0, -2), EXIT], 0, /jump out of range/);
  rejects([insn(0xb7, 11, 0, 0, 0), EXIT], 0, /invalid dst register/);
  rejects([insn(0x07, 1, 2, 0, 1), EXIT], 0, /reserved fields/); // add r1, imm with src set
  rejects([insn(0x0f, 1, 2, 0, 1), EXIT], 0, /reserved fields/); // add r1, r2 with imm set
  rejects([insn(0x18, 0, 0, 0, 1), EXIT], 1, /reserved fields/); // lddw whose second slot is an exit
  rejects([insn(0x18, 0, 0, 0, 1)], 0, /second slot missing/);
  rejects([insn(0x05, 0, 0, 1), ...lddw(0, 1n), EXIT], 0, /middle of ldimm64/);
  rejects([insn(0xd4, 1, 0, 0, 17), EXIT], 0, /BPF_END/);
  rejects([insn(0xdf, 1, 0, 0, 16), EXIT], 0, /unknown opcode/); // ALU64|END|X does not exist
  rejects([insn(0xdb, 1, 2, 0, 0x02), EXIT], 0, /atomic opcode/);
  rejects([insn(0x95, 0, 0, 0, 1)], 0, /EXIT uses reserved/);
  rejects([insn(0x85, 0, 1, 0, 5), EXIT], 0, /jump out of range/); // bpf-to-bpf call out of range
  rejects([insn(0xbf, 1, 2, 24, 0), EXIT], 0, /MOV uses reserved/); // movsx of 24 bits
  rejects([insn(0x0e, 0, 0, 0, 0), EXIT], 0, /unknown opcode/);
  rejects([insn(0x39, 1, 2, 0, 0), EXIT], 0, /unknown opcode/); // BPF_MEMSX|DW load does not exist
});

test('validation accepts every v4 form', () => {
  validateProgram([insn(0xbf, 1, 2, 32), insn(0x3f, 1, 2, 1), insn(0xd7, 1, 0, 0, 64), insn(0x06, 0, 0, 0, 0), EXIT]);
  validateProgram([insn(0x91, 1, 2, 0), insn(0xdb, 1, 2, 0, 0xf1), insn(0xc3, 1, 2, 0, 0xe1), insn(0x8d, 2), EXIT]);
});
