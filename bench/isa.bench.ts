/**
 * `npm run bench -- isa`: throughput of the assembler and disassembler on the
 * whole conformance suite (about 4,000 instructions), in ns per instruction,
 * with byte decoding as the baseline measured in the same run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/isa/asm.js';
import { disassemble } from '../src/isa/disasm.js';
import { decode, encode, fromHex, type Insn } from '../src/isa/insn.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const suite = resolve(process.env.TSBPF_SHARED ?? resolve(root, '../shared'), 'bpf-conformance');

/** Run `fn` repeatedly for about `ms` milliseconds; ns per call. */
function time(fn: () => void, ms = 400): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    fn();
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / n;
}

export async function main(): Promise<void> {
  const programs: Insn[][] = readdirSync(`${suite}/bytecode`)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => fromHex(readFileSync(`${suite}/bytecode/${f}`, 'utf8')));
  const slots = programs.reduce((a, p) => a + p.length, 0);
  const bytes = programs.map((p) => encode(p));
  const kernelText = programs.map((p) => disassemble(p));
  const llvmText = programs.map((p) => disassemble(p, { dialect: 'llvm', alu32: true }));
  const confText = readdirSync(`${suite}/tests`)
    .filter((f) => f.endsWith('.data'))
    .map((f) => /^-- asm\n([\s\S]*?)(?=^-- )/m.exec(readFileSync(`${suite}/tests/${f}`, 'utf8'))?.[1] ?? '');

  const rows: Array<[string, number]> = [
    ['decode bytes (baseline)', time(() => bytes.forEach((b) => decode(b)))],
    ['disassemble, kernel dialect', time(() => programs.forEach((p) => disassemble(p)))],
    ['disassemble, llvm dialect', time(() => programs.forEach((p) => disassemble(p, { dialect: 'llvm' })))],
    ['assemble kernel-dialect text', time(() => kernelText.forEach((t) => assemble(t, { dialect: 'kernel' })))],
    ['assemble llvm-dialect text', time(() => llvmText.forEach((t) => assemble(t, { dialect: 'kernel' })))],
    ['assemble conformance %r text', time(() => confText.forEach((t) => assemble(t, { dialect: 'conformance' })))],
  ];
  const base = rows[0]![1] / slots;
  console.log(`\nisa: ${programs.length} programs, ${slots} slots (node ${process.version})`);
  console.log('| operation | ns/slot | vs decode |');
  console.log('|---|---:|---:|');
  for (const [name, ns] of rows) console.log(`| ${name} | ${(ns / slots).toFixed(1)} | ${(ns / slots / base).toFixed(1)}x |`);
}
