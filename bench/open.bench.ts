/**
 * Opening big object files (issue 17): tsbpf's loadObjectFile beside libbpf's bpf_object__open
 * on the same file, measured in the same run. Each measurement is a fresh process (the CLI
 * opens an object once per call, with a cold JIT), CPU time of the open alone (user + system);
 * the rounds alternate tsbpf and libbpf, and the table gives minimum and median.
 *
 * Rows: open only (programs' instructions are linked when first read), open and read one
 * program's instructions (what `prog run` / `prog load` of one program asks), open and read
 * every program's. The baseline is bench/objopen.c, built here with gcc and libbpf-dev; without
 * them the libbpf column is left out. Objects: TSBPF_BENCH_OBJECTS (':'-separated), else
 * Tracee's and Falco's objects where this machine has them (/tmp/tracee, /tmp/falco).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const fileModule = pathToFileURL(resolve(here, '../src/object/file.js')).href;
const ROUNDS = Number(process.env.TSBPF_BENCH_ROUNDS ?? 7);

const DEFAULT_OBJECTS = ['/tmp/tracee/obj/tracee.bpf.o', '/tmp/falco/linked/falco.bpf.o'];

/** One fresh Node process: open `obj`, then read no, one or every program's instructions; CPU ms. */
function tsbpfOpen(obj: string, read: 'none' | 'one' | 'all'): number {
  const code = `const { loadObjectFile } = await import(${JSON.stringify(fileModule)});
const c0 = process.cpuUsage();
const spec = await loadObjectFile(${JSON.stringify(obj)});
const progs = [...spec.programs.values()];
let n = 0;
for (const p of ${JSON.stringify(read)} === 'all' ? progs : ${JSON.stringify(read)} === 'one' ? progs.slice(0, 1) : []) n += p.insns.length;
const c = process.cpuUsage(c0);
console.log((c.user + c.system) / 1000, n);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`open bench: tsbpf cannot open ${obj}: ${r.stderr}`);
  return Number(r.stdout.split(/\s+/)[0]);
}

function libbpfOpen(objopen: string, obj: string): number {
  const r = spawnSync(objopen, [obj], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`open bench: libbpf cannot open ${obj}: ${r.stderr}`);
  return Number(r.stdout.split('\t')[0]) / 1000;
}

const minMed = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(1)} / ${s[Math.floor((s.length - 1) / 2)]!.toFixed(1)}`;
};

export async function main(): Promise<void> {
  const objects = (process.env.TSBPF_BENCH_OBJECTS?.split(':') ?? DEFAULT_OBJECTS).filter((o) => o && existsSync(o));
  console.log(`\nopen: big objects, fresh process per open, CPU ms min / median of ${ROUNDS} (load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  if (!objects.length) {
    console.log('  no objects (TSBPF_BENCH_OBJECTS, or Tracee and Falco under /tmp): skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-objopen-'));
  try {
    const objopen = join(dir, 'objopen');
    const cc = spawnSync('gcc', ['-O2', '-o', objopen, resolve(root, 'bench/objopen.c'), '-lbpf'], { encoding: 'utf8' });
    const haveLibbpf = cc.status === 0;
    if (!haveLibbpf) console.log(`  (no libbpf baseline: gcc -lbpf failed: ${cc.stderr?.split('\n')[0] ?? cc.error})`);
    console.log(['object'.padEnd(22), 'libbpf open'.padStart(14), 'tsbpf open'.padStart(16), '+ one prog'.padStart(16), '+ all progs'.padStart(16), 'open/libbpf'.padStart(12)].join(' '));
    for (const obj of objects) {
      const t = { lib: [] as number[], none: [] as number[], one: [] as number[], all: [] as number[] };
      for (let i = 0; i < ROUNDS; i++) {
        if (haveLibbpf) t.lib.push(libbpfOpen(objopen, obj));
        t.none.push(tsbpfOpen(obj, 'none'));
        t.one.push(tsbpfOpen(obj, 'one'));
        t.all.push(tsbpfOpen(obj, 'all'));
      }
      const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
      const ratio = haveLibbpf ? `${(med(t.none) / med(t.lib)).toFixed(1)}x` : '-';
      console.log([obj.split('/').pop()!.padEnd(22), (haveLibbpf ? minMed(t.lib) : '-').padStart(14), minMed(t.none).padStart(16), minMed(t.one).padStart(16), minMed(t.all).padStart(16), ratio.padStart(12)].join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
