/**
 * Verification time per program: tsbpf's verifier on each fixture program
 * (median of repeated runs after warm-up) beside the kernel's own
 * `verification time` from `bpftool -d prog load` of the same object (root
 * only; both measured in this run). Ratio = tsbpf / kernel.
 *
 *   npm run bench -- verifier
 */
import { existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
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

/** The kernel's verification time (usec) per program name, from one `bpftool -d prog loadall`. */
function kernelTimes(obj: string): Map<string, number> | string {
  if (process.getuid?.() !== 0) return 'not root';
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

export async function main(): Promise<void> {
  if (!existsSync(FIXTURES)) {
    console.log('verifier bench: no fixtures/ directory, skipped');
    return;
  }
  const rows: string[][] = [['program', 'insns', 'processed', 'tsbpf us', 'kernel us', 'ratio']];
  const ratios: number[] = [];
  for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.o') && !x.includes('bpfeb')).sort()) {
    const coll = loadObjectFileSync(`${FIXTURES}/${f}`);
    const kt = kernelTimes(`${FIXTURES}/${f}`);
    for (const p of coll.programs.values()) {
      if (!SUPPORTED_PROG_TYPES.includes(p.type)) continue;
      const input = inputFromSpec(coll, p);
      let res = verify(input);
      if (!res.ok) continue;
      for (let k = 0; k < 20; k++) verify(input); // warm-up
      const times: number[] = [];
      const deadline = performance.now() + 300;
      for (let k = 0; k < 200 && (k < 10 || performance.now() < deadline); k++) {
        const t0 = performance.now();
        res = verify(input);
        times.push((performance.now() - t0) * 1000);
      }
      const ours = median(times);
      const kernel = typeof kt === 'string' ? undefined : kt.get(p.name);
      const ratio = kernel ? ours / kernel : undefined;
      if (ratio) ratios.push(ratio);
      rows.push([`${f.replace(/\.o$/, '')}:${p.name}`, String(p.insns.length), String(res.stats.processedInsns), ours.toFixed(1),
        kernel === undefined ? (typeof kt === 'string' ? `(${kt})` : '-') : String(kernel), ratio ? `${ratio.toFixed(2)}x` : '-']);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('verifier: verification time per program (tsbpf median vs kernel `verification time`)');
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  if (ratios.length) {
    const geo = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
    console.log(`geometric mean ratio tsbpf/kernel: ${geo.toFixed(2)}x over ${ratios.length} programs`);
  }
}
