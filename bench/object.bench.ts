/**
 * Object reading: how long opening each fixture takes, against the baseline
 * of decoding the same object's code sections alone (what any reader must
 * at least do), measured in the same run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readObject } from '../src/object/reader.js';
import { parseElf, SHF_EXECINSTR } from '../src/object/elf.js';
import { decode } from '../src/isa/insn.js';
import { writeObject } from '../src/object/writer.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');

/**
 * CPU microseconds per call (process.cpuUsage, so a machine shared with
 * other jobs inflates the figures less than wall-clock time would).
 */
function time(fn: () => void, minMs = 200): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let n = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  while (used < minMs * 1000) {
    for (let k = 0; k < 10; k++) fn();
    n += 10;
    const c = process.cpuUsage(c0);
    used = c.user + c.system;
  }
  return used / n;
}

export async function main(): Promise<void> {
  const dir = resolve(root, 'fixtures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.o') && !f.includes('.bpfeb.')).sort();
  console.log('\nobject: open a fixture (CPU µs per call; baseline = decode its code sections)');
  console.log(['fixture'.padEnd(20), 'bytes'.padStart(6), 'baseline'.padStart(9), 'parseElf'.padStart(9), 'readObject'.padStart(11), 'ratio'.padStart(6)].join(' '));
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(resolve(dir, f)));
    const code = parseElf(bytes).sections.filter((s) => s.flags & SHF_EXECINSTR).map((s) => s.data);
    const base = time(() => code.forEach((c) => decode(c)));
    const elf = time(() => parseElf(bytes));
    const full = time(() => readObject(bytes, { name: f }));
    console.log([f.padEnd(20), String(bytes.length).padStart(6), base.toFixed(1).padStart(9), elf.toFixed(1).padStart(9), full.toFixed(1).padStart(11), (full / base).toFixed(1).padStart(6)].join(' '));
  }
  const spec = readObject(new Uint8Array(readFileSync(resolve(dir, 'bpf2bpf.o'))));
  const programs = [...spec.programs.values()];
  const w = time(() => writeObject({ programs }));
  console.log(`writeObject(bpf2bpf programs): ${w.toFixed(1)} µs`);
}
