/**
 * Processed instructions and verification time, tsbpf beside the running
 * kernel, for every program of the BPF objects named (files or directories
 * of *.o; default: test/real-progs and test/verifier-corpus/c), largest
 * first by the kernel's processed count:
 *
 *   npx tsc -p . && sudo node dist/bench/verify-vs-kernel.js [--top N] [--warmup W] [--rounds K] [--cold R] [OBJ|DIR ...]
 *
 * Kernel: bench/kstats.c (built here with gcc and libbpf), each program
 * loaded alone with log_level 4 (statistics only, as veristat does), CO-RE
 * against the running kernel's BTF; its figure is the kernel's own
 * "verification time" of that one load (its code is always compiled).
 *
 * tsbpf (`tsbpf prog load`'s path: CO-RE against /sys/kernel/btf/vmlinux,
 * then verify(); only verify() is timed, as the kernel times only its
 * verifier), two figures, each a minimum over its runs:
 * - warm, what a long-running loader pays: in this process, untimed rounds
 *   verify every program of every object until at least W verifications
 *   (default 400, at least one round: V8 compiles the verifier's paths, as
 *   in a loader that has loaded a few hundred programs, whatever the number
 *   of objects named), then K timed rounds (default 5) verify every program
 *   again, one program after another as a loader would; the best of the K.
 *   The "at most the kernel's time" comparison is made on this one.
 * - cold, what a CLI user pays: for each program shown, R fresh Node
 *   processes (default 3), each importing tsbpf, parsing the kernel BTF,
 *   opening the object, relocating, and timing its first and only verify()
 *   (the best of the R). The fresh processes' other steps are summed up
 *   below the table.
 * Wall time is the figure beside the kernel's; the process's CPU time (which
 * also counts V8's compiler and GC threads) is printed too, being the
 * steadier one on a shared machine. The load average is printed before each
 * phase. Not a .bench.ts: it needs root, gcc and libbpf-dev, and it loads
 * programs into the kernel.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname, basename } from 'node:path';
import { tmpdir, loadavg, cpus as osCpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../src/object/file.js';
import { withHostKconfig } from '../src/cli/host-kconfig.js';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { readBtfPath } from '../src/cli/btf-input.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { getFuncIp } from '../src/hooks/uprobe.js';
import type { Btf } from '../src/object/btf/btf.js';
import type { CollectionSpec, ProgramSpec } from '../src/object/spec.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const VMLINUX = '/sys/kernel/btf/vmlinux';

/** Wall and CPU time (µs) of one step. */
interface Timing {
  wall: number;
  cpu: number;
}

interface Row {
  object: string;
  prog: string;
  kVerdict: string;
  kInsns: number | undefined;
  kUs: number | undefined;
  tVerdict: string;
  tInsns: number | undefined;
  /** best of the warm rounds */
  warm: Timing | undefined;
  /** best first verify() of the fresh processes (shown programs only) */
  cold: Timing | undefined;
}

/** What one fresh process spent on each step (µs), `--cold-one`'s answer. */
interface ColdRun {
  /** Node's start and the import of tsbpf's modules */
  start: Timing;
  btf: Timing;
  object: Timing;
  /** CO-RE relocation and the verifier's input */
  input: Timing;
  verify: Timing;
  verdict: string;
  insns: number | undefined;
}

function objects(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (statSync(a).isDirectory()) {
      for (const f of readdirSync(a).sort()) if (f.endsWith('.o')) out.push(join(a, f));
    } else out.push(a);
  }
  return out;
}

function kernelStats(kstats: string, obj: string): Map<string, [string, number | undefined, number | undefined]> {
  const r = spawnSync(kstats, [obj], { encoding: 'utf8' });
  const m = new Map<string, [string, number | undefined, number | undefined]>();
  for (const line of r.stdout.split('\n')) {
    const [name, verdict, n, us] = line.split('\t');
    if (!name || !verdict) continue;
    m.set(name, [verdict, n === '-' ? undefined : Number(n), us === '-' ? undefined : Number(us)]);
  }
  return m;
}

/** Time one step: wall (performance.now) and the process's CPU (user + system, every thread). */
function timed<T>(f: () => T): [T, Timing] {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const r = f();
  const wall = Math.round((performance.now() - w0) * 1000);
  const c = process.cpuUsage(c0);
  return [r, { wall, cpu: c.user + c.system }];
}

const best = (a: Timing | undefined, b: Timing): Timing => (a ? { wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) } : b);

/** An object opened as `tsbpf prog load` opens it, with a verifier input per program. */
class Subject {
  private readonly registry = defaultHelpers();
  private readonly core = { cache: new Map() };

  constructor(readonly coll: CollectionSpec, private readonly btf: Btf | undefined) {
    this.registry.register(getFuncIp);
  }

  static async open(obj: string, btf: Btf | undefined): Promise<Subject | undefined> {
    try {
      return new Subject(await withHostKconfig(await loadObjectFile(obj)), btf);
    } catch {
      return undefined; // the object does not open: every program shows as missing
    }
  }

  input(p: ProgramSpec): ReturnType<typeof inputFromSpec> {
    const btf = this.btf;
    return inputFromSpec(this.coll, p, { privileged: true, logLevel: 0, helpers: (id: number) => this.registry.get(id), core: this.core, ...(btf ? { coreTarget: btf, kernelBtf: btf } : {}) });
  }

  /** Verdict, processed count and the time of verify() alone (the input is built untimed). */
  run(p: ProgramSpec): [string, number | undefined, Timing | undefined] {
    let input;
    try {
      input = this.input(p);
    } catch {
      return ['reject', undefined, undefined]; // refused before the verifier (CO-RE, ksyms)
    }
    const [res, t] = timed(() => verify(input));
    return [res.ok ? 'accept' : 'reject', res.stats.processedInsns, t];
  }
}

/** `--cold-one OBJ PROG`: a fresh process's steps up to its first verify(), as JSON on stdout. */
async function coldOne(obj: string, prog: string): Promise<void> {
  // Node's start-up and this module's static imports (tsbpf's verifier, object and BTF code)
  // happened before this line: performance.now() counts from the process's start.
  const cpu0 = process.cpuUsage();
  const start: Timing = { wall: Math.round(performance.now() * 1000), cpu: cpu0.user + cpu0.system };
  const [btf, tBtf] = timed(() => (existsSync(VMLINUX) ? readBtfPath(VMLINUX) : undefined));
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  const s = await Subject.open(obj, btf);
  const c1 = process.cpuUsage(c0);
  const tObject: Timing = { wall: Math.round((performance.now() - w0) * 1000), cpu: c1.user + c1.system };
  const p = s && [...s.coll.programs.values()].find((x) => x.name === prog);
  if (!s || !p) throw new Error(`verify-vs-kernel: no program ${prog} in ${obj}`);
  let input;
  let tInput: Timing;
  try {
    [input, tInput] = timed(() => s.input(p));
  } catch {
    input = undefined;
    tInput = { wall: 0, cpu: 0 };
  }
  let out: ColdRun;
  if (!input) out = { start, btf: tBtf, object: tObject, input: tInput, verify: { wall: 0, cpu: 0 }, verdict: 'reject', insns: undefined };
  else {
    const [res, tVerify] = timed(() => verify(input));
    out = { start, btf: tBtf, object: tObject, input: tInput, verify: tVerify, verdict: res.ok ? 'accept' : 'reject', insns: res.stats.processedInsns };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** R fresh processes for one program; undefined where one fails. */
function coldRuns(obj: string, prog: string, r: number): ColdRun[] {
  const out: ColdRun[] = [];
  for (let i = 0; i < r; i++) {
    const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--cold-one', obj, prog], { encoding: 'utf8' });
    if (c.status !== 0) continue;
    try {
      out.push(JSON.parse(c.stdout.trim().split('\n').pop()!) as ColdRun);
    } catch {
      // no answer: this run is left out
    }
  }
  return out;
}

/** µs as ms, one decimal */
const ms = (us: number): string => (us / 1000).toFixed(1);

const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[(a.length - 1) >> 1]! : NaN;
};

/** Say how to call it (and what was wrong, if anything) instead of a stack trace. */
function usage(problem?: string): void {
  if (problem) console.error(`verify-vs-kernel: ${problem}`);
  console.error('usage (as root): node dist/bench/verify-vs-kernel.js [--top N] [--warmup W] [--rounds K] [--cold R] [OBJ|DIR ...]');
  console.error('  --top N     show the N largest programs (by the kernel\'s processed count); cold runs are for those only');
  console.error('  --warmup W  untimed verifications before the warm rounds, at least one round (default 400)');
  console.error('  --rounds K  timed warm rounds after the untimed ones (default 5)');
  console.error('  --cold R    fresh processes per shown program (default 3; 0: no cold figures)');
  process.exitCode = problem ? 2 : 0;
}

const loadNow = (): string => loadavg()[0]!.toFixed(1);

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--cold-one') return coldOne(argv[1]!, argv[2]!);
  let top = Infinity;
  let rounds = 5;
  let cold = 3;
  let warmup = 400;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--cold') cold = Number(argv[++i]);
    else if (argv[i] === '--warmup') warmup = Number(argv[++i]);
    else if (argv[i]!.startsWith('-')) return usage(argv[i] === '--help' || argv[i] === '-h' ? undefined : `unknown option ${argv[i]}`);
    else if (!existsSync(argv[i]!)) return usage(`no such object or directory: ${argv[i]}`);
    else rest.push(argv[i]!);
  }
  if (!(top > 0)) return usage('--top takes a positive number');
  if (!(Number.isInteger(rounds) && rounds > 0)) return usage('--rounds takes a positive integer');
  if (!(Number.isInteger(cold) && cold >= 0)) return usage('--cold takes an integer, 0 or more');
  if (!(Number.isInteger(warmup) && warmup >= 0)) return usage('--warmup takes an integer, 0 or more');
  if (process.getuid?.() !== 0) return usage('needs root (it loads programs into the kernel)');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kstats-'));
  try {
    const kstats = join(dir, 'kstats');
    const cc = spawnSync('gcc', ['-O2', '-o', kstats, resolve(ROOT, 'bench/kstats.c'), '-lbpf'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`verify-vs-kernel: cannot build bench/kstats.c (gcc, libbpf-dev): ${cc.stderr}`);
    const btf = existsSync(VMLINUX) ? readBtfPath(VMLINUX) : undefined;
    const loads: string[] = [`${loadNow()} at the start (kernel)`];
    const files = objects(rest.length ? rest : [resolve(ROOT, 'test/real-progs'), resolve(ROOT, 'test/verifier-corpus/c')]);
    const kernel = files.map((obj) => kernelStats(kstats, obj));
    // Warm: untimed rounds over every program (at least `warmup` verifications), then the timed
    // rounds, one program after another.
    loads.push(`${loadNow()} before the warm rounds`);
    const subjects = await Promise.all(files.map((obj) => Subject.open(obj, btf)));
    const warm = files.map(() => new Map<string, [string, number | undefined, Timing | undefined]>());
    let untimed = 0;
    const round = (timed: boolean): void =>
      files.forEach((_, k) => {
        const s = subjects[k];
        if (!s) return;
        for (const p of s.coll.programs.values()) {
          const [v, n, t] = s.run(p);
          if (!timed) untimed++;
          const prev = warm[k]!.get(p.name)?.[2];
          warm[k]!.set(p.name, [v, n, !timed || !t ? undefined : prev ? best(prev, t) : t]);
        }
      });
    do round(false);
    while (untimed > 0 && untimed < warmup);
    for (let r = 0; r < rounds; r++) round(true);
    const rows: Row[] = [];
    files.forEach((obj, k) => {
      for (const [prog, [kv, kn, kus]] of kernel[k]!) {
        const [tv, tn, tw] = warm[k]!.get(prog) ?? ['missing', undefined, undefined];
        rows.push({ object: obj, prog, kVerdict: kv, kInsns: kn, kUs: kus, tVerdict: tv, tInsns: tn, warm: tw, cold: undefined });
      }
    });
    rows.sort((a, b) => (b.kInsns ?? 0) - (a.kInsns ?? 0));
    const shown = rows.slice(0, top);
    // Cold: fresh processes for the programs shown.
    loads.push(`${loadNow()} before the cold processes`);
    const colds: ColdRun[] = [];
    for (const r of cold > 0 ? shown : []) {
      const runs = coldRuns(r.object, r.prog, cold).filter((c) => c.insns !== undefined);
      colds.push(...runs);
      for (const c of runs) r.cold = best(r.cold, c.verify);
    }
    loads.push(`${loadNow()} at the end`);
    const f = (x: number | undefined): string => (x === undefined ? '-' : x.toLocaleString('en-US'));
    const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);
    console.log(`load average ${loads.join(', ')}; kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}; ${cpus()}`);
    console.log(`tsbpf warm: best of ${rounds} rounds after ${untimed} untimed verifications, in one process; cold: best of ${cold} fresh processes, each timing its first verify(); µs`);
    console.log('| program | object | kernel verdict | tsbpf verdict | kernel insns | tsbpf insns | insns ratio | kernel µs | tsbpf warm µs, wall | warm / kernel | tsbpf warm µs, CPU | tsbpf cold µs, wall | cold / kernel | tsbpf cold µs, CPU |');
    console.log('|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of shown)
      console.log(`| ${r.prog} | ${basename(r.object)} | ${r.kVerdict} | ${r.tVerdict} | ${f(r.kInsns)} | ${f(r.tInsns)} | ${ratio(r.tInsns, r.kInsns)} | ${f(r.kUs)} | ${f(r.warm?.wall)} | ${ratio(r.warm?.wall, r.kUs)} | ${f(r.warm?.cpu)} | ${f(r.cold?.wall)} | ${ratio(r.cold?.wall, r.kUs)} | ${f(r.cold?.cpu)} |`);
    if (colds.length) {
      const step = (k: keyof Pick<ColdRun, 'start' | 'btf' | 'object' | 'input' | 'verify'>, what: string): string =>
        `${what} ${ms(median(colds.map((c) => c[k].wall)))} / ${ms(median(colds.map((c) => c[k].cpu)))}`;
      console.log(`\nA fresh process's steps, median of ${colds.length} (ms, wall / CPU): ${step('start', 'Node start and imports')}, ${step('btf', `kernel BTF read and parse`)}, ${step('object', 'object opened')}, ${step('input', 'CO-RE and input')}, ${step('verify', 'first verify()')}`);
    }
    const timedRows = shown.filter((r) => r.kUs !== undefined && r.warm !== undefined);
    const atMost = timedRows.filter((r) => r.warm!.wall <= r.kUs!).length;
    console.log(`warm wall time at most the kernel's on ${atMost} of the ${timedRows.length} programs shown with both times`);
    const both = rows.filter((r) => r.kInsns !== undefined && r.tInsns !== undefined && r.kInsns > 0);
    const within = both.filter((r) => Math.abs(r.tInsns! - r.kInsns!) <= 0.1 * r.kInsns!).length;
    console.log(`\n${rows.length} programs; processed insns within 10% of the kernel's on ${within} of ${both.length} with counts on both sides`);
    // the verdicts: where the kernel's verifier gave one (a rejection without a log is a refusal
    // before verifying, e.g. fentry without trampolines here), does tsbpf give the same?
    const judged = rows.filter((r) => r.kVerdict === 'accept' || (r.kVerdict === 'reject' && r.kInsns !== undefined));
    const differ = judged.filter((r) => r.tVerdict !== r.kVerdict);
    console.log(`verdicts agree on ${judged.length - differ.length} of ${judged.length} programs the kernel judged`);
    for (const r of differ) console.log(`  differs: ${basename(r.object)} ${r.prog}: kernel ${r.kVerdict}, tsbpf ${r.tVerdict}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The machine, for the reader of a table: CPU count and model. */
function cpus(): string {
  const c = osCpus();
  return `${c.length} CPUs (${c[0]?.model.trim() ?? '?'})`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main(process.argv.slice(2));
