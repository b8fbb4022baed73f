#!/usr/bin/env node
// measure-objects.mjs CORPUS_DIR [--kernel-btf PATH] [--json OUT] [--tsbpf BIN] [--iproute2]: tsbpf's and libbpf's verdicts
// on every *.o below CORPUS_DIR (the ebpf-samples corpus, github:vbpf/ebpf-samples, is what it
// was written for; the corpus is measured locally and never committed). Per object: does
// libbpf 1.x open it (bpf_object__open_file), does tsbpf open it (`tsbpf prog load -j`); per
// program opened by both: the running kernel's verdict (libbpf loads each program alone) and
// tsbpf's verifier verdict. Prints the table by outcome and reason. With --iproute2, an object
// tsbpf refuses by libbpf's rules is tried again as tc's own loader read it (prog load --iproute2). libbpf's side needs root,
// gcc and libbpf-dev (scripts/libbpf-verdicts.c is built into a temp dir); without them only
// tsbpf's side is measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const kernelBtf = opt('--kernel-btf') ?? (statSync('/sys/kernel/btf/vmlinux', { throwIfNoEntry: false }) ? '/sys/kernel/btf/vmlinux' : undefined);
const jsonOut = opt('--json');
// another checkout's bin/tsbpf, to measure before and after a change
const tsbpfBin = opt('--tsbpf') ?? join(root, 'bin/tsbpf');
const iproute2 = args.includes('--iproute2') ? (args.splice(args.indexOf('--iproute2'), 1), true) : false;
const [corpus] = args;
if (!corpus) { console.error('usage: measure-objects.mjs CORPUS_DIR [--kernel-btf PATH] [--json OUT] [--tsbpf BIN] [--iproute2]'); process.exit(2); }

const objects = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) walk(join(d, e.name));
    else if (e.name.endsWith('.o')) objects.push(join(d, e.name));
  }
})(corpus);

let lv;
const tmp = mkdtempSync(join(tmpdir(), 'measure-objects-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
if (process.getuid?.() === 0) {
  try {
    execFileSync('gcc', ['-O2', '-D_GNU_SOURCE', '-o', join(tmp, 'lv'), join(root, 'scripts/libbpf-verdicts.c'), '-lbpf'], { stdio: 'pipe' });
    lv = join(tmp, 'lv');
  } catch (e) { console.error(`libbpf side skipped: ${String(e.stderr ?? e.message).trim()}`); }
} else console.error('libbpf side skipped: needs root to load programs');

/** libbpf's verdict: { open: bool, reason, progs: Map(name -> { ok, errno, reason }) } */
function libbpf(file) {
  if (!lv) return undefined;
  const r = spawnSync(lv, [file], { encoding: 'utf8', timeout: 600_000 });
  const res = { open: false, reason: `libbpf-verdicts exited ${r.status}: ${r.stderr.trim()}`, progs: new Map() };
  for (const line of r.stdout.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'open') Object.assign(res, f[1] === 'ok' ? { open: true, reason: '' } : { open: false, reason: `${f[2]}: ${f[3]}` });
    if (f[0] === 'prog') res.progs.set(f[1], { section: f[2], ok: f[3] === 'ok', reason: f[3] === 'ok' ? '' : `${f[4]}: ${f[5]}` });
  }
  return res;
}

/** tsbpf's verdict, from `tsbpf prog load FILE -j`: the same shape, plus crash (no JSON). */
function tsbpf(file, extra = []) {
  const r = spawnSync(process.execPath, [tsbpfBin, 'prog', 'load', file, '-j', ...extra, ...(kernelBtf ? ['--kernel-btf', kernelBtf] : [])], { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 28 });
  const res = { open: false, reason: '', progs: new Map(), crash: false };
  let out;
  try { out = JSON.parse(r.stdout); } catch {
    return { ...res, crash: true, reason: `no JSON (exit ${r.status}${r.signal ? ', ' + r.signal : ''}): ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' | ')}` };
  }
  if (Array.isArray(out)) {
    res.open = true;
    for (const p of out) res.progs.set(p.name, { section: p.section, ok: p.accepted, reason: p.accepted ? '' : `${p.error?.errno}: ${String(p.error?.message ?? '').split('\n')[0]}` });
  } else if (out.errno === 'ENOENT' && /doesn't contain any bpf program/.test(out.error)) {
    res.open = true; // opened, and found nothing to load (prog load then fails, as bpftool's)
  } else res.reason = `${out.errno}: ${out.error}`;
  return res;
}

const rows = [];
for (const [i, file] of objects.entries()) {
  const name = relative(corpus, file);
  process.stderr.write(`\r[${i + 1}/${objects.length}] ${name.padEnd(60)}`);
  const row = { name, libbpf: libbpf(file), tsbpf: tsbpf(file) };
  // what libbpf 1.x refuses, read as tc's and ip's own loader did (prog load --iproute2)
  if (!row.tsbpf.open && iproute2) row.iproute2 = tsbpf(file, ['--iproute2']);
  rows.push(row);
}
process.stderr.write('\n');

const bucket = (r) => !r.libbpf ? (r.tsbpf.open ? 'tsbpf opens' : 'tsbpf refuses')
  : r.libbpf.open && r.tsbpf.open ? 'opens in both' : r.libbpf.open ? 'opens in libbpf only' : r.tsbpf.open ? 'opens in tsbpf only' : 'opens in neither';
const groups = new Map();
for (const r of rows) {
  const b = bucket(r);
  const why = b === 'opens in both' ? '' : b === 'opens in libbpf only' ? `tsbpf: ${r.tsbpf.reason}` : b === 'opens in tsbpf only' ? `libbpf: ${r.libbpf.reason}` : `libbpf: ${r.libbpf?.reason ?? '-'} / tsbpf: ${r.tsbpf.reason}`;
  // reasons grouped without the object-specific names
  const key = `${b}\t${why.replace(/'[^']*'/g, "'…'").replace(/\/\S+\.o\b/g, 'FILE')}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r.name);
}
console.log(`objects: ${rows.length}${lv ? '' : ' (libbpf side not measured)'}`);
for (const [key, names] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
  const [b, why] = key.split('\t');
  console.log(`${String(names.length).padStart(4)}  ${b}${why ? `  -- ${why}` : ''}\n        ${names.slice(0, 6).join(' ')}${names.length > 6 ? ` ... (+${names.length - 6})` : ''}`);
}
console.log(`crashes (no JSON from tsbpf): ${rows.filter((r) => r.tsbpf.crash || r.iproute2?.crash).length}`);
if (iproute2) {
  const tried = rows.filter((r) => r.iproute2);
  const opened = tried.filter((r) => r.iproute2.open);
  console.log(`\nrefused by tsbpf's default (libbpf) rules: ${tried.length}; opened with --iproute2: ${opened.length}`);
  const why = new Map();
  for (const r of tried.filter((x) => !x.iproute2.open)) {
    const k = r.iproute2.reason.replace(/'[^']*'/g, "'…'").replace(/\/\S+\.o\b/g, 'FILE');
    why.set(k, [...(why.get(k) ?? []), r.name]);
  }
  for (const [k, names] of why) console.log(`${String(names.length).padStart(4)}  still refused -- ${k}\n        ${names.join(' ')}`);
}

// Programs opened by both: the kernel's verdict beside tsbpf's verifier.
if (lv) {
  let same = 0, both = 0; const differ = [], missing = [];
  for (const r of rows) {
    if (!(r.libbpf.open && r.tsbpf.open)) continue;
    for (const [pname, k] of r.libbpf.progs) {
      const t = r.tsbpf.progs.get(pname);
      if (!t) { missing.push(`${r.name}:${pname} (libbpf only; kernel ${k.ok ? 'accepts' : 'refuses'})`); continue; }
      both++;
      if (t.ok === k.ok) same++; else differ.push(`${r.name}:${pname}  kernel ${k.ok ? 'accepts' : 'refuses (' + k.reason + ')'}; tsbpf ${t.ok ? 'accepts' : 'refuses (' + t.reason + ')'}`);
    }
    for (const pname of r.tsbpf.progs.keys()) if (!r.libbpf.progs.has(pname)) missing.push(`${r.name}:${pname} (tsbpf only)`);
  }
  console.log(`\nprograms opened by both: ${both}; verdict agrees with the kernel on ${same}`);
  for (const d of differ) console.log(`  differs: ${d}`);
  for (const m of missing) console.log(`  program in one loader only: ${m}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows.map((r) => ({ ...r, libbpf: r.libbpf && { ...r.libbpf, progs: Object.fromEntries(r.libbpf.progs) }, tsbpf: { ...r.tsbpf, progs: Object.fromEntries(r.tsbpf.progs) } })), null, 1));
