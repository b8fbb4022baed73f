/**
 * `npm run bench -- runtime`: ns per BPF_PROG_TEST_RUN of XDP programs on a
 * 64-byte IPv4 packet — tsbpf's interpreter and JIT, and (as root with
 * bpftool) the kernel's `bpftool prog run ... repeat N` on the same object in
 * the same run. Durations are the test run's own average (time inside the
 * repeat loop, as the kernel reports it), after a warm-up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const OBJ = join(ROOT, 'fixtures/xdp_firewall.o');
const PROGRAMS = ['xdp_pass', 'xdp_firewall'];

function packet(): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  return p;
}

function kernelNs(prog: string, repeat: number): number | string {
  if (process.getuid?.() !== 0) return 'not root';
  const pin = `/sys/fs/bpf/tsbpf-bench-${process.pid}`;
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  try {
    execFileSync('bpftool', ['prog', 'loadall', OBJ, pin], { stdio: 'ignore' });
    const f = join(tmp, 'pkt');
    writeFileSync(f, packet());
    const out = execFileSync('bpftool', ['-j', 'prog', 'run', 'pinned', join(pin, prog), 'data_in', f, 'repeat', String(repeat)], { encoding: 'utf8' });
    return (JSON.parse(out) as { duration: number }).duration;
  } catch (e) {
    return `bpftool failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  const spec = await loadObjectFile(OBJ);
  const data = packet();
  const rows: Array<{ prog: string; engine: string; ns: number | string }> = [];
  for (const engine of ['interpreter', 'jit'] as const) {
    const rt = new Runtime({ engine });
    const c = await rt.load(spec);
    for (const name of PROGRAMS) {
      const p = c.program(name);
      const repeat = engine === 'jit' ? 200_000 : 50_000;
      p.run({ data, repeat: repeat / 5 }); // warm-up: let V8 optimise the engine
      let best = Infinity;
      for (let i = 0; i < 3; i++) best = Math.min(best, p.run({ data, repeat }).duration);
      rows.push({ prog: name, engine: `tsbpf ${engine}`, ns: best });
    }
    rt.close();
  }
  for (const name of PROGRAMS) rows.push({ prog: name, engine: 'linux (bpftool prog run)', ns: kernelNs(name, 1_000_000) });

  console.log('\n## runtime: ns per test run, XDP, 64-byte packet (lower is better)\n');
  console.log('| program | engine | ns/run | vs kernel | vs interpreter |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) {
    const k = rows.find((x) => x.prog === r.prog && x.engine.startsWith('linux'))?.ns;
    const i = rows.find((x) => x.prog === r.prog && x.engine === 'tsbpf interpreter')?.ns;
    const ratio = (base: number | string | undefined): string => (typeof base === 'number' && typeof r.ns === 'number' && base > 0 ? `${(r.ns / base).toFixed(1)}x` : '-');
    console.log(`| ${r.prog} | ${r.engine} | ${typeof r.ns === 'number' ? r.ns : `(${r.ns})`} | ${ratio(k)} | ${ratio(i)} |`);
  }
}
