/**
 * Verification time per program: tsbpf's verifier on each fixture program
 * (median of repeated runs after warm-up) and on three large synthetic
 * programs (a loop that nearly reaches the 1,000,000-instruction limit, a
 * loop with a data-dependent branch, a loop whose accumulator is spilled
 * around a helper call) beside the kernel's own `verification time` for the
 * same object (root only; both measured in this run). Ratio = tsbpf / kernel.
 *
 * The kernel's figure comes from a libbpf load of the one program at log
 * level 4 (statistics only: test/verifier-unseen/oloader.c), so that it does
 * not include the cost of writing a per-instruction log; without a C
 * compiler and libbpf it falls back to `bpftool -d prog loadall` (log levels
 * 1+2+4, which inflates the kernel's time on large programs).
 *
 *   npm run bench -- verifier
 */
import { existsSync, readdirSync, rmSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../src/isa/asm.js';
import { writeObject } from '../src/object/writer.js';
import { buildLoader } from '../test/verifier-unseen.js';
import { spawnSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { SUPPORTED_PROG_TYPES } from '../src/verifier/progtypes/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const FIXTURES = resolve(ROOT, 'fixtures');

let loaderPath: string | undefined | null = null;

/** The kernel's verification time (usec) per program name: oloader at log level 4, else bpftool -d. */
function kernelTimes(obj: string): Map<string, number> | string {
  if (process.getuid?.() !== 0) return 'not root';
  if (loaderPath === null) loaderPath = buildLoader().path;
  if (loaderPath) {
    const r = spawnSync(loaderPath, [obj], { encoding: 'utf8', env: { ...process.env, OLOADER_LOG_LEVEL: '4' }, timeout: 300_000 });
    const out = new Map<string, number>();
    for (const line of (r.stdout ?? '').split('\n')) {
      if (!line.startsWith('RESULT ')) continue;
      const f = line.slice(7).split('\t');
      const us = Number(f[5]);
      if (f[2] === 'accept' && us >= 0) out.set(f[0]!, us);
    }
    if (out.size) return out;
  }
  if (spawnSync('sh', ['-c', 'command -v bpftool']).status !== 0) return 'no bpftool';
  const pin = `/sys/fs/bpf/tsbpf_vbench_${process.pid}`;
  rmSync(pin, { recursive: true, force: true });
  mkdirSync(pin, { recursive: true });
  const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', obj, pin], { encoding: 'utf8' });
  rmSync(pin, { recursive: true, force: true });
  if (r.status !== 0) return 'kernel load failed';
  const out = new Map<string, number>();
  let prog = '';
  for (const line of (r.stdout + r.stderr).split('\n')) {
    const m = /libbpf: prog '([^']+)': -- BEGIN PROG LOAD LOG --/.exec(line);
    if (m) prog = m[1]!;
    const t = /^verification time (\d+) usec/.exec(line);
    if (t && prog) out.set(prog, Number(t[1]));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Large programs, written here so that the kernel verifies the same
 * instructions (socket filters; the writer makes the ELF object).
 */
const SYNTHETIC: Record<string, string> = {
  // 249,000 iterations of 4 instructions: 996,004 processed, just under the limit.
  count_loop: `
    r1 = 0
    r2 = 0
  loop:
    r2 += r1
    r2 ^= 0x55
    r1 += 1
    if r1 < 249000 goto loop
    r0 = 0
    exit`,
  // A branch on packet-derived data in every iteration: both sides are explored and meet again.
  branchy_loop: `
    r6 = r1
    r7 = *(u32 *)(r6 +0)
    r1 = 0
    r2 = 0
  loop:
    r3 = r7
    r3 >>= 3
    r3 &= 7
    if r3 > 3 goto skip
    r2 += r3
  skip:
    r2 &= 4095
    r1 += 1
    if r1 < 8000 goto loop
    r0 = 0
    exit`,
  // An accumulator spilled around a helper call (pruning needs precision through the stack).
  spill_loop: `
    r6 = r1
    r7 = 0
    r8 = 0
  loop:
    *(u64 *)(r10 -16) = r8
    call bpf_get_prandom_u32
    r8 = *(u64 *)(r10 -16)
    r1 = r0
    r1 &= 255
    if r1 > 100 goto skip
    r8 += r1
  skip:
    r7 += 1
    if r7 < 2000 goto loop
    r0 = 0
    exit`,
};

function syntheticObjects(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vbench-'));
  const out: string[] = [];
  for (const [name, src] of Object.entries(SYNTHETIC)) {
    const insns = assemble(src, { dialect: 'kernel' });
    const path = join(dir, `${name}.o`);
    writeFileSync(path, writeObject({ programs: [{ name, section: 'socket', insns }], license: 'GPL' }));
    out.push(path);
  }
  return out;
}

export async function main(): Promise<void> {
  if (!existsSync(FIXTURES)) {
    console.log('verifier bench: no fixtures/ directory, skipped');
    return;
  }
  const rows: string[][] = [['program', 'insns', 'processed', 'tsbpf us', 'kernel us', 'ratio']];
  const ratios: number[] = [];
  const bigRatios: number[] = [];
  const objects = readdirSync(FIXTURES).filter((x) => x.endsWith('.o') && !x.includes('bpfeb')).sort().map((f) => `${FIXTURES}/${f}`);
  const synthetic = syntheticObjects();
  for (const path of [...objects, ...synthetic]) {
    const big = synthetic.includes(path);
    const f = path.split('/').pop()!;
    const coll = loadObjectFileSync(path);
    const kt = kernelTimes(path);
    for (const p of coll.programs.values()) {
      if (!SUPPORTED_PROG_TYPES.includes(p.type)) continue;
      const input = inputFromSpec(coll, p);
      let res = verify(input);
      if (!res.ok) continue;
      for (let k = 0; k < (big ? 1 : 20); k++) verify(input); // warm-up
      const times: number[] = [];
      const deadline = performance.now() + 300;
      for (let k = 0; k < (big ? 3 : 200) && (big || k < 10 || performance.now() < deadline); k++) {
        const t0 = performance.now();
        res = verify(input);
        times.push((performance.now() - t0) * 1000);
      }
      const ours = median(times);
      const kernel = typeof kt === 'string' ? undefined : kt.get(p.name);
      const ratio = kernel ? ours / kernel : undefined;
      if (ratio) (big ? bigRatios : ratios).push(ratio);
      rows.push([`${f.replace(/\.o$/, '')}:${p.name}`, String(p.insns.length), String(res.stats.processedInsns), ours.toFixed(1),
        kernel === undefined ? (typeof kt === 'string' ? `(${kt})` : '-') : String(kernel), ratio ? `${ratio.toFixed(2)}x` : '-']);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('verifier: verification time per program (tsbpf median vs kernel `verification time`)');
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  const geo = (xs: number[]): string => Math.exp(xs.reduce((a, r) => a + Math.log(r), 0) / xs.length).toFixed(2);
  if (ratios.length) console.log(`geometric mean ratio tsbpf/kernel: ${geo(ratios)}x over ${ratios.length} fixture programs`);
  if (bigRatios.length) console.log(`geometric mean ratio tsbpf/kernel: ${geo(bigRatios)}x over ${bigRatios.length} large synthetic programs`);
  rmSync(dirname(synthetic[0]!), { recursive: true, force: true });
}
