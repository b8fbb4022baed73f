import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, encode } from '../src/isa/insn.js';
import { loadProgram } from '../src/cli/commands/run.js';
import { BIN } from './paths.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-run-'));
/** `r0 = r2; exit` (r0 = the memory's length) as hex text, in the conformance suite's bytecode layout. */
const MEM_LEN_HEX = 'bf  20  00  00  00  00  00  00  95  00  00  00  00  00  00  00  \n';
const tsbpf = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('tsbpf run detects raw bytecode, hex text and both assembly dialects', () => {
  const hex = MEM_LEN_HEX;
  const insns = fromHex(hex);
  assert.equal(loadProgram(Buffer.from(hex)).format, 'hex');
  assert.equal(loadProgram(encode(insns)).format, 'binary');
  assert.deepEqual(loadProgram(encode(insns)).insns, insns);
  assert.equal(loadProgram(Buffer.from('mov %r0, %r2\nexit\n')).format, 'asm');
  assert.equal(loadProgram(Buffer.from('# comment\nr0 = r2\nexit\n')).format, 'asm');
  assert.throws(() => loadProgram(Buffer.from('\x7fELF\x02\x01\x01')), /ELF object/);
});

test('tsbpf run prints r0 for each input kind, with --mem', () => {
  const bin = join(dir, 'prog.bin');
  writeFileSync(bin, encode(fromHex(MEM_LEN_HEX)));
  let r = tsbpf('run', bin, '--mem', '01 02 03 04 05');
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(r.stdout, '0x5\n');
  const asm = join(dir, 'prog.s');
  writeFileSync(asm, 'r0 = 0x1122334455667788 ll\nr0 += 1\nexit\n');
  r = tsbpf('run', asm);
  assert.equal(r.stdout, '0x1122334455667789\n');
  r = tsbpf('-j', 'run', asm);
  assert.deepEqual(JSON.parse(String(r.stdout)), { r0: '0x1122334455667789', engine: 'interpreter' });
});

test('tsbpf run --trace prints each instruction and the registers it changed', () => {
  const asm = join(dir, 'loop.s');
  writeFileSync(asm, 'mov %r0, 0\nmov %r1, 2\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit\n');
  const r = tsbpf('run', '--trace', asm);
  assert.equal(r.status, 0, String(r.stderr));
  const lines = String(r.stdout).trim().split('\n');
  assert.match(lines[1]!, /^ {3}0: r0 = 0$/);
  assert.match(lines[2]!, /^ {3}1: r1 = 2 +; r1=0x2$/);
  assert.match(lines[3]!, /^ {3}2: r0 \+= r1 +; r0=0x2$/);
  assert.equal(lines.filter((l) => /^ +4: if r1 != 0x0 goto pc-3/.test(l)).length, 2);
  assert.equal(lines.at(-1), '0x3');
});

test('tsbpf run reports faults and budget exhaustion as typed errors', () => {
  const f = join(dir, 'fault.s');
  writeFileSync(f, 'r1 = 0\nr0 = *(u32 *)(r1 +8)\nexit\n');
  let r = tsbpf('run', f);
  assert.equal(r.status, 1);
  assert.match(String(r.stderr), /insn 1: invalid read of 4 bytes at 0x8.*\(EFAULT\)/);
  const loop = join(dir, 'loop2.s');
  writeFileSync(loop, 'l: goto l\nexit\n');
  r = tsbpf('run', loop, '--budget', '1000');
  assert.equal(r.status, 1);
  assert.match(String(r.stderr), /budget of 1000 exhausted \(E2BIG\)/);
  r = tsbpf('run');
  assert.equal(r.status, 2);
});
