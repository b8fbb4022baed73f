/**
 * Differential verdicts on objects the project has never seen (issue 5,
 * "Done when"): every program of every clang-built object in the given
 * directories goes through the Linux kernel (one program at a time, loaded
 * as libbpf loads it, by test/verifier-unseen/oloader.c) and through tsbpf's
 * verify(); the verdicts are compared.
 *
 *   node dist/test/verifier-unseen.js DIR... [--md FILE] [--json FILE] [--only OBJ[:PROG]]
 *
 * (TSBPF_UNSEEN_MODES and TSBPF_UNSEEN_KERNEL_BTF choose the modes: see unseenModes below.)
 *
 * Each program lands in one row of the summary:
 * - agree-accept / agree-reject: same verdict;
 * - tsbpf-unsupported: tsbpf refuses a program type or feature it does not
 *   model (ENOTSUPP-like messages, or the object cannot be read), by reason;
 * - kernel-load-error: the kernel's load failed outside the verifier (a map
 *   type, attach target or kfunc libbpf could not set up) — no verdict to
 *   compare;
 * - DISAGREE: a verdict differs (both first lines are printed).
 * The selftests' verifier_*.c programs carry __success/__failure annotations
 * (BTF decl tags "comment:test_expect_*"); where present they are printed
 * beside the kernel's verdict as a sanity check of the loader.
 *
 * Needs root, cc and libbpf-dev for the kernel side. Kernel verdicts are
 * cached per object (by size and mtime) under $TMPDIR/tsbpf-unseen-kernel.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { verify, HELPER_PROTOS } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { POISON_HELPER_ID } from '../src/object/btf/core.js';
import { loadObjectFileSync } from '../src/object/file.js';
import type { CollectionSpec } from '../src/object/spec.js';
import { ROOT } from './paths.js';
import { Btf } from '../src/object/btf/btf.js';
import { runningKernelSymbols } from '../src/cli/kallsyms.js';

/**
 * Each program is judged by tsbpf in two modes against one kernel verdict:
 * - `subset`: tsbpf's shipped kernel-BTF subset (object/btf/context.ts), what the browser and a
 *   machine without /sys/kernel/btf get;
 * - `kernel-btf`: the running kernel's BTF (TSBPF_UNSEEN_KERNEL_BTF, default
 *   /sys/kernel/btf/vmlinux) for the verifier and as the CO-RE target, as a user's `--kernel-btf`
 *   gives, so that kernel objects the subset lacks (cgroup, bpf_cpumask, ...) are typed as the
 *   kernel types them.
 * TSBPF_UNSEEN_MODES=subset or =kernel-btf keeps one; both by default (kernel-btf only where the
 * file exists).
 */
export type Mode = 'subset' | 'kernel-btf';
export const MODES: readonly Mode[] = ['subset', 'kernel-btf'];

const KERNEL_BTF_PATH = process.env.TSBPF_UNSEEN_KERNEL_BTF || '/sys/kernel/btf/vmlinux';

/** The modes to judge in (TSBPF_UNSEEN_MODES, else both where the kernel BTF exists). */
export function unseenModes(): Mode[] {
  const want = (process.env.TSBPF_UNSEEN_MODES ?? '').split(',').filter(Boolean);
  for (const m of want) if (!MODES.includes(m as Mode)) throw new Error(`TSBPF_UNSEEN_MODES: unknown mode '${m}' (${MODES.join(', ')})`);
  if (want.length) return want as Mode[];
  return existsSync(KERNEL_BTF_PATH) ? [...MODES] : ['subset'];
}

let kernelBtfCache: Btf | undefined;
let kernelSymbolsCache: ((name: string) => boolean) | undefined | null;
function unseenKernelBtf(mode: Mode): { kernelBtf?: Btf; coreTarget?: Btf; kernelSymbols?: (name: string) => boolean } {
  if (mode === 'subset') return {};
  kernelBtfCache ??= Btf.parse(new Uint8Array(readFileSync(KERNEL_BTF_PATH)));
  // the running kernel's kallsyms, as the CLI reads them with --kernel-btf (typed ksyms' addresses)
  if (kernelSymbolsCache === undefined) kernelSymbolsCache = runningKernelSymbols(KERNEL_BTF_PATH) ?? null;
  return { kernelBtf: kernelBtfCache, coreTarget: kernelBtfCache, ...(kernelSymbolsCache ? { kernelSymbols: kernelSymbolsCache } : {}) };
}

export type Outcome = 'agree-accept' | 'agree-reject' | 'tsbpf-unsupported' | 'kernel-load-error' | 'core-target-differs' | 'DISAGREE';

export interface ProgResult {
  /** which kernel BTF tsbpf judged against (the kernel's verdict is the same row's in every mode) */
  mode: Mode;
  object: string;
  prog: string;
  section: string;
  kernel: 'accept' | 'reject' | 'error';
  kernelErrno: string;
  kernelMsg: string;
  tsbpf: 'accept' | 'reject' | 'unsupported';
  tsbpfErrno: string;
  tsbpfMsg: string;
  /** the selftest's own expectation (__success / __failure), when annotated */
  expect?: 'success' | 'failure';
  outcome: Outcome;
  /** a core-target-differs row found by judging again with vmlinux as the CO-RE target: both verdicts */
  coreNote?: string;
  /** tsbpf's wall time on it: CO-RE relocation and verify() (the first kernel-btf row also parses that BTF) */
  timeUs: number;
}

/**
 * Messages by which tsbpf says "this is outside what I model", not "this is unsafe" (Linux's own
 * "Unsupported reg type X for bpf_dynptr_from_mem data" is a verdict, not one of them).
 */
const UNSUPPORTED = /not supported|does not support|unsupported(?! reg type)|tsbpf does not|no program type|no kernel function .* in the kernel|no raw tracepoint/i;

interface KernelLine { prog: string; section: string; verdict: 'accept' | 'reject' | 'error'; errno: string; msg: string }

const LOADER_SRC = join(ROOT, 'test/verifier-unseen/oloader.c');

/** Build the kernel-side loader once per source version; undefined (with a reason) when it cannot be built. */
export function buildLoader(): { path?: string; why?: string } {
  if (!existsSync(LOADER_SRC)) return { why: `${LOADER_SRC} is missing` };
  const src = readFileSync(LOADER_SRC);
  const h = createHash('sha1').update(src).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'tsbpf-unseen-kernel');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `oloader-${h}`);
  if (existsSync(out)) return { path: out };
  for (const cc of ['cc', 'gcc', 'clang', 'clang-19']) {
    const r = spawnSync(cc, ['-O2', '-o', out, LOADER_SRC, '-lbpf'], { encoding: 'utf8' });
    if (r.error) continue;
    if (r.status === 0) return { path: out };
    return { why: `${cc} could not build the loader (libbpf-dev missing?): ${r.stderr.split('\n')[0]}` };
  }
  return { why: 'no C compiler (cc, gcc, clang) found' };
}

/** How long the kernel side may take on one object (TSBPF_UNSEEN_KERNEL_TIMEOUT seconds; Tracee's 169 programs take minutes). */
const KERNEL_TIMEOUT_MS = kernelTimeoutMs(process.env.TSBPF_UNSEEN_KERNEL_TIMEOUT);

function kernelTimeoutMs(v: string | undefined): number {
  const s = Number(v || 600);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`TSBPF_UNSEEN_KERNEL_TIMEOUT: '${v}' is not a positive number of seconds`);
  return s * 1000;
}

/**
 * The kernel's verdicts on an object's programs, cached. A loader that was stopped (timeout,
 * signal) printed only some programs: that is not cached, and `stopped` says why, so that the
 * programs it did not reach are counted as having no kernel verdict rather than left out.
 */
function kernelVerdicts(loader: string, obj: string): { lines: KernelLine[]; stopped?: string } | { openFail: string } {
  const st = statSync(obj);
  const cacheDir = join(tmpdir(), 'tsbpf-unseen-kernel');
  // OLOADER_SIZE_MAPS changes what the loader does (oloader.c): part of the key
  const key = createHash('sha1').update(`${obj}\0${st.size}\0${st.mtimeMs}\0${basename(loader)}\0${process.env.OLOADER_SIZE_MAPS ?? ''}`).digest('hex').slice(0, 16);
  const cache = join(cacheDir, `${basename(obj)}-${key}.txt`);
  let text: string;
  let stopped: string | undefined;
  if (existsSync(cache)) text = readFileSync(cache, 'utf8');
  else {
    const r = spawnSync(loader, [obj], { encoding: 'utf8', timeout: KERNEL_TIMEOUT_MS, maxBuffer: 64 << 20 });
    text = r.stdout ?? '';
    if (r.signal) stopped = `the kernel-side loader was stopped by ${r.signal}${r.error ? ` (${r.error.message})` : ''}`;
    if (r.status !== 0 && !text) text = `OPENFAIL\tE?\tloader exited ${r.status ?? r.signal}: ${(r.stderr ?? '').split('\n')[0]}\n`;
    if (!stopped) writeFileSync(cache, text);
  }
  const out: KernelLine[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('OPENFAIL\t')) return { openFail: line.split('\t').slice(1).join(' ') };
    if (!line.startsWith('RESULT ')) continue;
    const [prog, section, verdict, errno, msg] = line.slice(7).split('\t') as [string, string, KernelLine['verdict'], string, string];
    out.push({ prog, section, verdict, errno, msg: msg ?? '' });
  }
  return stopped ? { lines: out, stopped } : { lines: out };
}

/** The selftests' per-function expectations (bpf_misc.h's __success / __failure decl tags). */
function expectations(coll: CollectionSpec): Map<string, 'success' | 'failure'> {
  const m = new Map<string, 'success' | 'failure'>();
  const btf = coll.btf;
  if (!btf) return m;
  for (const t of btf.types) {
    if (t.kind !== 'decl_tag' || t.componentIdx !== -1) continue;
    const target = btf.types[t.typeId];
    if (!target || target.kind !== 'func') continue;
    if (t.name === 'comment:test_expect_success') m.set(target.name, 'success');
    else if (t.name === 'comment:test_expect_failure') m.set(target.name, 'failure');
  }
  return m;
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 200);
}

export function runObject(loader: string, obj: string, only?: string, modes: readonly Mode[] = unseenModes()): ProgResult[] {
  const name = basename(obj);
  const kv = kernelVerdicts(loader, obj);
  let coll: CollectionSpec | undefined;
  let openErr = '';
  try {
    coll = loadObjectFileSync(obj);
  } catch (e) {
    openErr = `${(e as { errno?: string }).errno ?? 'E?'} ${(e as Error).message}`;
  }
  if ('openFail' in kv) {
    // libbpf could not even open it: nothing the kernel verified.
    return modes.map((mode) => ({ mode, object: name, prog: '*', section: '', kernel: 'error', kernelErrno: 'E?', kernelMsg: kv.openFail, tsbpf: coll ? 'accept' : 'unsupported', tsbpfErrno: '', tsbpfMsg: openErr, outcome: 'kernel-load-error', timeUs: 0 }));
  }
  const expect = coll ? expectations(coll) : new Map<string, 'success' | 'failure'>();
  const results: ProgResult[] = [];
  const lines = [...kv.lines];
  if (kv.stopped && coll) {
    // the programs the loader did not reach: no kernel verdict (kernel-load-error), not silence
    const seen = new Set(lines.map((k) => k.prog));
    for (const [prog, p] of coll.programs)
      if (!seen.has(prog)) lines.push({ prog, section: p.section, verdict: 'error', errno: 'E?', msg: kv.stopped });
  }
  for (const k of lines) {
    if (only !== undefined && k.prog !== only) continue;
    for (const mode of modes) {
      const r: ProgResult = {
        mode, object: name, prog: k.prog, section: k.section, kernel: k.verdict, kernelErrno: k.errno, kernelMsg: k.msg,
        tsbpf: 'unsupported', tsbpfErrno: '', tsbpfMsg: '', outcome: 'DISAGREE', timeUs: 0,
      };
      const ex = expect.get(k.prog);
      if (ex) r.expect = ex;
      judgeRow(r, coll, openErr);
      results.push(r);
    }
  }
  return results;
}

/** tsbpf's verdict on one row (its mode, its kernel verdict) and the row's outcome. */
export function judgeRow(r: ProgResult, coll: CollectionSpec | undefined, openErr = ''): void {
  judge(r, coll, openErr, unseenKernelBtf(r.mode));
  r.outcome = outcomeOf(r);
  if (r.outcome === 'DISAGREE' && r.mode === 'subset') relocatedElsewhere(r, coll, openErr);
}

/**
 * A subset-mode disagreement that is only about the CO-RE target: the subset lacks a type
 * vmlinux has, so libbpf's rules give tsbpf other constants (bpf_core_type_size() of a missing
 * type is 0, a field_exists guard is false) and the kernel never judged the code tsbpf judged.
 * tsbpf judges the program again with the subset for everything but the relocations, which go
 * against the running kernel's BTF as libbpf's did; if that verdict is the kernel's, the row is
 * core-target-differs, with the second verdict in its note. Any other disagreement stands.
 */
function relocatedElsewhere(r: ProgResult, coll: CollectionSpec | undefined, openErr: string): void {
  if (!existsSync(KERNEL_BTF_PATH)) return;
  const { coreTarget } = unseenKernelBtf('kernel-btf');
  const again: ProgResult = { ...r, tsbpf: 'unsupported', tsbpfErrno: '', tsbpfMsg: '' };
  judge(again, coll, openErr, { coreTarget });
  if (again.tsbpf !== r.kernel) return;
  r.outcome = 'core-target-differs';
  r.coreNote = `tsbpf ${r.tsbpf}${r.tsbpf !== 'accept' ? ` (${r.tsbpfMsg})` : ''} with the subset as CO-RE target, ${again.tsbpf} relocated against vmlinux`;
}

/** tsbpf's verdict on one program with the given kernel BTF and CO-RE target, into `r` (wall time of relocation and verify in timeUs). */
function judge(r: ProgResult, coll: CollectionSpec | undefined, openErr: string, btf: ReturnType<typeof unseenKernelBtf>): void {
  if (!coll) {
    r.tsbpfErrno = openErr.split(' ')[0]!;
    r.tsbpfMsg = `object: ${openErr.slice(r.tsbpfErrno.length + 1)}`;
    return;
  }
  const prog = coll.programs.get(r.prog);
  if (!prog) {
    r.tsbpfMsg = 'object: program not found by tsbpf\'s reader';
    return;
  }
  const t0 = performance.now();
  try {
    const res = verify(inputFromSpec(coll, prog, btf));
    if (res.ok) r.tsbpf = 'accept';
    else {
      r.tsbpfErrno = res.error!.errno;
      r.tsbpfMsg = firstLine(res.error!.kernelMessage);
      r.tsbpf = UNSUPPORTED.test(r.tsbpfMsg) || res.error!.errno === 'ENOTSUPP' || unmodelledHelper(r.tsbpfMsg) ? 'unsupported' : 'reject';
    }
  } catch (e) {
    const errno = (e as { errno?: string }).errno;
    if (errno) {
      // A typed error before verification (e.g. a CO-RE relocation with no target in
      // tsbpf's context BTF): the program uses something tsbpf does not provide.
      r.tsbpfErrno = errno;
      r.tsbpfMsg = `load: ${firstLine((e as Error).message).replace(/#insn \d+/, '#insn N')}`;
    } else {
      r.tsbpf = 'reject';
      r.tsbpfErrno = 'CRASH';
      r.tsbpfMsg = firstLine(String((e as Error)?.stack ?? e));
    }
  }
  r.timeUs = Math.round((performance.now() - t0) * 1000);
}

function outcomeOf(r: ProgResult): Outcome {
  if (r.kernel === 'error') return 'kernel-load-error';
  // libbpf relocates CO-RE against the running kernel's vmlinux BTF, tsbpf against its own
  // context types: a relocation that has no target in vmlinux is no verdict on the code.
  if (r.kernel === 'reject' && /failed to resolve CO-RE relocation/.test(r.kernelMsg) && r.tsbpf === 'accept') return 'core-target-differs';
  // and the other way: a relocation tsbpf's own types cannot satisfy is poisoned (libbpf's rule) where vmlinux has the type
  if (r.kernel === 'accept' && r.tsbpf === 'reject' && r.tsbpfMsg === `invalid func unknown#${POISON_HELPER_ID}`) return 'core-target-differs';
  if (r.tsbpf === 'unsupported') return 'tsbpf-unsupported';
  // A kfunc the kernel has and tsbpf does not provide (tsbpf's own message for an unknown kfunc).
  if (r.kernel === 'accept' && r.tsbpf === 'reject' && /^calling kernel function \S+ is not allowed$/.test(r.tsbpfMsg)) {
    r.tsbpf = 'unsupported';
    return 'tsbpf-unsupported';
  }
  if (r.kernel === r.tsbpf) return r.kernel === 'accept' ? 'agree-accept' : 'agree-reject';
  return 'DISAGREE';
}

/**
 * "invalid func unknown#N" for a helper id the kernel has (ids below 212 in
 * 6.12's enum bpf_func_id) but tsbpf has no prototype for: a helper tsbpf
 * does not implement, not a verdict on the program.
 */
function unmodelledHelper(msg: string): boolean {
  const m = /^invalid func unknown#(\d+)$/.exec(msg);
  return !!m && Number(m[1]) > 0 && Number(m[1]) < 212 && !HELPER_PROTOS.has(Number(m[1]));
}

/** "program type tracing is not supported" and "R3 ... not supported" group under one reason. */
function reasonOf(msg: string): string {
  if (unmodelledHelper(msg)) return 'helper not implemented by tsbpf (invalid func unknown#N)';
  if (/no kernel function .* in the kernel|no raw tracepoint/.test(msg)) return 'attach target (kernel function / raw tracepoint) not in tsbpf\'s BTF';
  return msg.replace(/^R\d+ /, 'Rn ').replace(/\b\d+\b/g, 'N').replace(/'[^']*'/g, "'…'").slice(0, 110);
}

const OUTCOMES: readonly Outcome[] = ['agree-accept', 'agree-reject', 'tsbpf-unsupported', 'kernel-load-error', 'core-target-differs', 'DISAGREE'];

/** The report: one outcome table with a column per mode, then each mode's unsupported reasons and disagreements. */
export function summarize(results: ProgResult[], dirs: string[]): string {
  const modes = MODES.filter((m) => results.some((r) => r.mode === m));
  const of = (m: Mode) => results.filter((r) => r.mode === m);
  const first = of(modes[0] ?? 'subset');
  const lines: string[] = [];
  lines.push(`Objects: ${new Set(first.map((r) => r.object)).size} from ${dirs.join(', ')}; programs: ${first.length}; ` +
    `tsbpf judged each against ${modes.map((m) => `\`${m}\``).join(' and ')} (kernel BTF: ${modes.includes('kernel-btf') ? KERNEL_BTF_PATH : 'not used'})`);
  lines.push('');
  lines.push(`| outcome | ${modes.join(' | ')} |`);
  lines.push(`|---|${modes.map(() => '---:').join('|')}|`);
  for (const o of OUTCOMES) lines.push(`| ${o} | ${modes.map((m) => of(m).filter((r) => r.outcome === o).length).join(' | ')} |`);
  lines.push(`| tsbpf time (s) | ${modes.map((m) => (of(m).reduce((a, r) => a + r.timeUs, 0) / 1e6).toFixed(1)).join(' | ')} |`);
  for (const m of modes) {
    const annotated = of(m).filter((r) => r.expect && r.kernel !== 'error');
    if (!annotated.length) continue;
    const kOk = annotated.filter((r) => (r.expect === 'success') === (r.kernel === 'accept')).length;
    const tOk = annotated.filter((r) => r.tsbpf !== 'unsupported' && (r.expect === 'success') === (r.tsbpf === 'accept')).length;
    const tN = annotated.filter((r) => r.tsbpf !== 'unsupported').length;
    lines.push('');
    lines.push(`Selftest annotations (__success/__failure), \`${m}\`: kernel matches ${kOk}/${annotated.length}; tsbpf matches ${tOk}/${tN} of those it models.`);
  }
  const byReason = (rows: ProgResult[], o: Outcome, pick: (r: ProgResult) => string) => {
    const c = new Map<string, number>();
    for (const r of rows) if (r.outcome === o) c.set(pick(r), (c.get(pick(r)) ?? 0) + 1);
    return [...c].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  };
  for (const m of modes) {
    lines.push('');
    lines.push(`### tsbpf-unsupported, by reason (\`${m}\`)`);
    lines.push('');
    for (const [why, n] of byReason(of(m), 'tsbpf-unsupported', (r) => reasonOf(r.tsbpfMsg))) lines.push(`- ${n} × ${why}`);
  }
  lines.push('');
  lines.push('### kernel-load-error (no verifier verdict), by reason');
  lines.push('');
  for (const [why, n] of byReason(first, 'kernel-load-error', (r) => reasonOf(`${r.kernelErrno} ${r.kernelMsg}`))) lines.push(`- ${n} × ${why}`);
  for (const m of modes) {
    lines.push('');
    lines.push(`### core-target-differs (CO-RE relocations one side cannot resolve: libbpf against vmlinux, tsbpf against ${m === 'subset' ? 'its own types' : 'the kernel BTF'}), \`${m}\``);
    lines.push('');
    const differs = of(m).filter((r) => r.outcome === 'core-target-differs');
    if (!differs.length) lines.push('(none)');
    for (const r of differs) lines.push(`- \`${r.object}\` \`${r.prog}\`: ${r.coreNote ?? r.kernelMsg}`);
  }
  for (const m of modes) {
    lines.push('');
    lines.push(`### DISAGREE (\`${m}\`)`);
    lines.push('');
    const dis = of(m).filter((r) => r.outcome === 'DISAGREE');
    if (!dis.length) lines.push('(none)');
    for (const r of dis) {
      lines.push(`- \`${r.object}\` \`${r.prog}\` (${r.section})${r.expect ? ` [selftest expects ${r.expect}]` : ''}`);
      lines.push(`  - kernel ${r.kernel}${r.kernel !== 'accept' ? ` ${r.kernelErrno}: ${r.kernelMsg}` : ''}`);
      lines.push(`  - tsbpf ${r.tsbpf}${r.tsbpf !== 'accept' ? ` ${r.tsbpfErrno}: ${r.tsbpfMsg}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function objectsIn(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) for (const f of readdirSync(d).sort()) if (f.endsWith('.o')) out.push(join(d, f));
  return out;
}

async function main(argv: string[]): Promise<number> {
  const dirs: string[] = [];
  let md: string | undefined;
  let json: string | undefined;
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--md') md = argv[++i];
    else if (a === '--json') json = argv[++i];
    else if (a === '--only') only = argv[++i];
    else dirs.push(a);
  }
  if (!dirs.length) {
    process.stderr.write('usage: node dist/test/verifier-unseen.js DIR... [--md FILE] [--json FILE] [--only PROG]\n');
    return 2;
  }
  const loader = buildLoader();
  if (!loader.path) {
    process.stderr.write(`cannot get the kernel's verdicts: ${loader.why}\n`);
    return 2;
  }
  const results: ProgResult[] = [];
  const objs = objectsIn(dirs);
  for (const o of objs) {
    if (only !== undefined && !basename(o).startsWith(only.split(':')[0]!)) continue;
    results.push(...runObject(loader.path, o, only?.includes(':') ? only.split(':')[1] : undefined));
  }
  const text = summarize(results, dirs);
  process.stdout.write(text);
  if (md) writeFileSync(md, text);
  if (json) writeFileSync(json, JSON.stringify(results, null, 1));
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
