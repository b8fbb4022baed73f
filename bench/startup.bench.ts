/**
 * `npm run bench -- startup`: the whole process of `tsbpf prog run` on a
 * small object (start Node, import, open, verify, compile, one test run),
 * beside `node -e 0` (Node's own start) and, as root with bpftool, the
 * kernel's `bpftool prog load` + `prog run` + unpin of the same object. The
 * three alternate for several rounds; medians of wall time, and the load
 * average beside them (the machine may be shared: the ratio is the figure).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const OBJ = join(ROOT, 'fixtures/xdp_firewall.o');
const ROUNDS = 9;

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().split('\n')[0]}`);
  return t;
}

/** Why the kernel column cannot be measured here, or '' when it can. */
function kernelMissing(): string {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('bpftool', ['version']).status !== 0) return 'bpftool not found';
  return '';
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-startup-'));
  try {
    const pkt = join(dir, 'pkt');
    writeFileSync(pkt, new Uint8Array(64));
    const why = kernelMissing();
    const pin = `/sys/fs/bpf/tsbpf-bench-startup-${process.pid}`;
    if (!why) execFileSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf'], { stdio: 'ignore' });
    const node: number[] = [];
    const tsbpf: number[] = [];
    const kernel: number[] = [];
    const load0 = loadavg();
    for (let r = 0; r < ROUNDS; r++) {
      node.push(timed(process.execPath, ['-e', '0']));
      tsbpf.push(timed(process.execPath, [join(ROOT, 'bin/tsbpf'), 'prog', 'run', OBJ, 'xdp_pass', 'data_in', pkt]));
      if (!why) {
        const t0 = performance.now();
        try {
          execFileSync('bpftool', ['prog', 'load', OBJ, pin], { stdio: 'ignore' });
          execFileSync('bpftool', ['prog', 'run', 'pinned', pin, 'data_in', pkt], { stdio: 'ignore' });
        } finally {
          rmSync(pin, { force: true });
        }
        kernel.push(performance.now() - t0);
      }
    }
    const ms = (x: number): string => `${x.toFixed(1)} ms`;
    console.log(`\n## startup: whole process, \`tsbpf prog run\` of fixtures/xdp_firewall.o (xdp_pass), median of ${ROUNDS} interleaved rounds (lower is better)\n`);
    console.log(`load average: ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${loadavg().map((x) => x.toFixed(2)).join(' ')} after\n`);
    console.log('| process | wall | vs node -e 0 |');
    console.log('|---|---:|---:|');
    const n = median(node);
    console.log(`| node -e 0 | ${ms(n)} | 1.0x |`);
    console.log(`| tsbpf prog run | ${ms(median(tsbpf))} | ${(median(tsbpf) / n).toFixed(1)}x |`);
    console.log(`| bpftool prog load + run + unpin | ${why ? `(${why})` : ms(median(kernel))} | ${why ? '-' : `${(median(kernel) / n).toFixed(1)}x`} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
