/**
 * `npm run bench -- startup`: the whole process of `tsbpf prog run` on a
 * small object (start Node, import, open, verify, compile, one test run),
 * beside `node -e 0` (Node's own start) and, as root with bpftool, the
 * kernel's `bpftool prog load` + `prog run` + unpin of the same object.
 * tsbpf runs three ways: the module tree (TSBPF_BUNDLE=0), the bundle without
 * its code cache (TSBPF_COMPILE_CACHE=0) and the bundle with it (what
 * bin/tsbpf does; the cache warmed first in a temporary folder). All alternate
 * for several rounds; medians of wall time and of CPU time (user + system of
 * the child, from the shell's `times`: on a shared machine the CPU time and the
 * difference from `node -e 0` are the figures), with the load average.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshBundle } from '../src/cli/bundle.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const OBJ = join(ROOT, 'fixtures/xdp_firewall.o');
const ROUNDS = 9;

interface Sample {
  wall: number;
  cpu: number;
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** Wall time of `cmd args` and its CPU time (user + system), which bash's `times` prints for its children. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Sample {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `${[cmd, ...args].map(quote).join(' ')} >/dev/null || exit 1; times`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().split('\n')[0]}`);
  // second line: the children's "0m0.120s 0m0.030s"
  const children = r.stdout.toString().trim().split('\n')[1] ?? '';
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((t, m) => t + Number(m[1]) * 60e3 + Number(m[2]) * 1e3, 0);
  return { wall, cpu };
}

/** Why the kernel column cannot be measured here, or '' when it can. */
function kernelMissing(): string {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('bpftool', ['version']).status !== 0) return 'bpftool not found';
  return '';
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function main(): Promise<void> {
  // A stale bundle makes bin/tsbpf fall back to the module tree (by design): every row would
  // then measure that path under the bundle's name.
  if (!freshBundle(ROOT)) {
    console.log('startup: skipped: dist/cli is missing or older than dist/src (a bare tsc): run `npm run build` first');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-startup-'));
  try {
    const pkt = join(dir, 'pkt');
    writeFileSync(pkt, new Uint8Array(64));
    const why = kernelMissing();
    const pin = `/sys/fs/bpf/tsbpf-bench-startup-${process.pid}`;
    if (!why) execFileSync('sh', ['-c', 'mount | grep -q " /sys/fs/bpf " || mount -t bpf bpf /sys/fs/bpf'], { stdio: 'ignore' });
    const cache = join(dir, 'cache');
    const bin = join(ROOT, 'bin/tsbpf');
    const run = ['prog', 'run', OBJ, 'xdp_pass', 'data_in', pkt];
    const variants: [string, NodeJS.ProcessEnv][] = [
      ['tsbpf prog run, module tree (TSBPF_BUNDLE=0)', { TSBPF_BUNDLE: '0' }],
      ['tsbpf prog run, bundle without code cache', { TSBPF_COMPILE_CACHE: '0' }],
      ['tsbpf prog run, bundle + code cache (bin/tsbpf)', { TSBPF_COMPILE_CACHE: cache }],
    ];
    timed(process.execPath, [bin, ...run], { TSBPF_COMPILE_CACHE: cache }); // writes the cache
    const node: Sample[] = [];
    const tsbpf: Sample[][] = variants.map(() => []);
    const kernel: Sample[] = [];
    const load0 = loadavg();
    for (let r = 0; r < ROUNDS; r++) {
      node.push(timed(process.execPath, ['-e', '0']));
      variants.forEach(([, env], i) => tsbpf[i]!.push(timed(process.execPath, [bin, ...run], env)));
      if (!why) {
        const t0 = performance.now();
        try {
          execFileSync('bpftool', ['prog', 'load', OBJ, pin], { stdio: 'ignore' });
          execFileSync('bpftool', ['prog', 'run', 'pinned', pin, 'data_in', pkt], { stdio: 'ignore' });
        } finally {
          rmSync(pin, { force: true });
        }
        kernel.push({ wall: performance.now() - t0, cpu: NaN });
      }
    }
    const ms = (x: number): string => `${x.toFixed(1)} ms`;
    const med = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
    console.log(`\n## startup: whole process, \`tsbpf prog run\` of fixtures/xdp_firewall.o (xdp_pass), median of ${ROUNDS} interleaved rounds (lower is better)\n`);
    console.log(`load average: ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${loadavg().map((x) => x.toFixed(2)).join(' ')} after\n`);
    console.log('| process | wall | wall - node -e 0 | CPU (user + sys) | CPU - node -e 0 |');
    console.log('|---|---:|---:|---:|---:|');
    const nw = med(node, 'wall');
    const nc = med(node, 'cpu');
    console.log(`| node -e 0 | ${ms(nw)} | - | ${ms(nc)} | - |`);
    variants.forEach(([name], i) => {
      const w = med(tsbpf[i]!, 'wall');
      const c = med(tsbpf[i]!, 'cpu');
      console.log(`| ${name} | ${ms(w)} | ${ms(w - nw)} | ${ms(c)} | ${ms(c - nc)} |`);
    });
    console.log(`| bpftool prog load + run + unpin | ${why ? `(${why})` : ms(med(kernel, 'wall'))} | - | - | - |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
