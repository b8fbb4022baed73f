/**
 * Processed instructions and verification time, tsbpf beside the running
 * kernel, for every program of the BPF objects named (files or directories
 * of *.o; default: test/real-progs and test/verifier-corpus/c), largest
 * first by the kernel's processed count:
 *
 *   npx tsc -p . && sudo node dist/bench/verify-vs-kernel.js [--top N] [OBJ|DIR ...]
 *
 * Kernel: bench/kstats.c (built here with gcc and libbpf), each program
 * loaded alone with log_level 4 (statistics only, as veristat does), CO-RE
 * against the running kernel's BTF. tsbpf: the verifier in this process
 * (`tsbpf prog load`'s path: CO-RE against /sys/kernel/btf/vmlinux, the
 * kernel BTF parsed once), each program verified twice and the smaller CPU
 * time kept (the first pays V8's warm-up). Not a .bench.ts: it needs root, gcc
 * and libbpf-dev, and it loads programs into the kernel.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname, basename } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../src/object/file.js';
import { withHostKconfig } from '../src/cli/host-kconfig.js';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { readBtfPath } from '../src/cli/btf-input.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { getFuncIp } from '../src/hooks/uprobe.js';
import type { Btf } from '../src/object/btf/btf.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');
const VMLINUX = '/sys/kernel/btf/vmlinux';

interface Row {
  object: string;
  prog: string;
  kVerdict: string;
  kInsns: number | undefined;
  kUs: number | undefined;
  tVerdict: string;
  tInsns: number | undefined;
  /** best wall time of tsbpf's runs */
  tUs: number | undefined;
  /** best CPU time (user + system, all of the process's threads) */
  tCpuUs: number | undefined;
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

/** tsbpf's verdict, processed count, and best wall and CPU time (µs) of its runs. */
type TsbpfStats = [string, number | undefined, number | undefined, number | undefined];

async function tsbpfStats(obj: string, btf: Btf | undefined): Promise<Map<string, TsbpfStats>> {
  const m = new Map<string, TsbpfStats>();
  const registry = defaultHelpers();
  registry.register(getFuncIp);
  let coll;
  try {
    coll = await withHostKconfig(await loadObjectFile(obj));
  } catch {
    return m; // the object does not open: every program shows as missing
  }
  const core = { cache: new Map() };
  for (const p of coll.programs.values()) {
    let best: TsbpfStats = ['error', undefined, undefined, undefined];
    for (let i = 0; i < 3; i++) {
      try {
        const input = inputFromSpec(coll, p, { privileged: true, logLevel: 0, helpers: (id: number) => registry.get(id), core, ...(btf ? { coreTarget: btf, kernelBtf: btf } : {}) });
        // Wall time is the figure on an idle machine (the kernel's is its own in-kernel timing);
        // on a shared one a preempted run's wall time says nothing, and the process's CPU time
        // (which also counts V8's background compiler and GC threads) is the steadier one.
        const t0 = process.cpuUsage();
        const w0 = performance.now();
        const res = verify(input);
        const wall = Math.round((performance.now() - w0) * 1000);
        const cpu = process.cpuUsage(t0);
        const us = cpu.user + cpu.system;
        best = [res.ok ? 'accept' : 'reject', res.stats.processedInsns, Math.min(wall, best[2] ?? Infinity), Math.min(us, best[3] ?? Infinity)];
      } catch {
        best = ['reject', undefined, undefined, undefined];
      }
    }
    m.set(p.name, best);
  }
  return m;
}

/** Say how to call it (and what was wrong, if anything) instead of a stack trace. */
function usage(problem?: string): void {
  if (problem) console.error(`verify-vs-kernel: ${problem}`);
  console.error('usage (as root): node dist/bench/verify-vs-kernel.js [--top N] [OBJ|DIR ...]');
  process.exitCode = problem ? 2 : 0;
}

export async function main(argv: string[]): Promise<void> {
  let top = Infinity;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i]!.startsWith('-')) return usage(argv[i] === '--help' || argv[i] === '-h' ? undefined : `unknown option ${argv[i]}`);
    else if (!existsSync(argv[i]!)) return usage(`no such object or directory: ${argv[i]}`);
    else rest.push(argv[i]!);
  }
  if (!(top > 0)) return usage('--top takes a positive number');
  if (process.getuid?.() !== 0) return usage('needs root (it loads programs into the kernel)');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kstats-'));
  try {
    const kstats = join(dir, 'kstats');
    const cc = spawnSync('gcc', ['-O2', '-o', kstats, resolve(ROOT, 'bench/kstats.c'), '-lbpf'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`verify-vs-kernel: cannot build bench/kstats.c (gcc, libbpf-dev): ${cc.stderr}`);
    const btf = existsSync(VMLINUX) ? readBtfPath(VMLINUX) : undefined;
    const rows: Row[] = [];
    const load = loadavg()[0]!.toFixed(1);
    for (const obj of objects(rest.length ? rest : [resolve(ROOT, 'test/real-progs'), resolve(ROOT, 'test/verifier-corpus/c')])) {
      const k = kernelStats(kstats, obj);
      const t = await tsbpfStats(obj, btf);
      for (const [prog, [kv, kn, kus]] of k) {
        const [tv, tn, tus, tcpu] = t.get(prog) ?? ['missing', undefined, undefined, undefined];
        rows.push({ object: basename(obj), prog, kVerdict: kv, kInsns: kn, kUs: kus, tVerdict: tv, tInsns: tn, tUs: tus, tCpuUs: tcpu });
      }
    }
    rows.sort((a, b) => (b.kInsns ?? 0) - (a.kInsns ?? 0));
    const shown = rows.slice(0, top);
    const f = (x: number | undefined): string => (x === undefined ? '-' : x.toLocaleString('en-US'));
    const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`);
    console.log(`load average ${load} at the start, ${loadavg()[0]!.toFixed(1)} at the end; kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}`);
    console.log('| program | object | kernel verdict | tsbpf verdict | kernel insns | tsbpf insns | insns ratio | kernel µs | tsbpf µs, wall | time ratio, wall | tsbpf µs, CPU | time ratio, CPU |');
    console.log('|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of shown)
      console.log(`| ${r.prog} | ${r.object} | ${r.kVerdict} | ${r.tVerdict} | ${f(r.kInsns)} | ${f(r.tInsns)} | ${ratio(r.tInsns, r.kInsns)} | ${f(r.kUs)} | ${f(r.tUs)} | ${ratio(r.tUs, r.kUs)} | ${f(r.tCpuUs)} | ${ratio(r.tCpuUs, r.kUs)} |`);
    const both = rows.filter((r) => r.kInsns !== undefined && r.tInsns !== undefined && r.kInsns > 0);
    const within = both.filter((r) => Math.abs(r.tInsns! - r.kInsns!) <= 0.1 * r.kInsns!).length;
    console.log(`\n${rows.length} programs; processed insns within 10% of the kernel's on ${within} of ${both.length} with counts on both sides`);
    // the verdicts: where the kernel's verifier gave one (a rejection without a log is a refusal
    // before verifying, e.g. fentry without trampolines here), does tsbpf give the same?
    const judged = rows.filter((r) => r.kVerdict === 'accept' || (r.kVerdict === 'reject' && r.kInsns !== undefined));
    const differ = judged.filter((r) => r.tVerdict !== r.kVerdict);
    console.log(`verdicts agree on ${judged.length - differ.length} of ${judged.length} programs the kernel judged`);
    for (const r of differ) console.log(`  differs: ${r.object} ${r.prog}: kernel ${r.kVerdict}, tsbpf ${r.tVerdict}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main(process.argv.slice(2));
