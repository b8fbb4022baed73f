/**
 * The real-program corpus (issue 14; test/real-progs/): programs written as
 * tracing tools are written, with flavoured CO-RE types and existence guards,
 * each with the running kernel's verdict recorded (record.sh). tsbpf must
 * give the same verdict and the same verifier message, judging them against
 * the recording kernel's types (kernel.btf). Where root and bpftool are
 * present the recorded verdicts are re-checked on the running kernel, and
 * tsbpf's verdict against that kernel's own /sys/kernel/btf/vmlinux compared
 * with it; where clang-19 is present the programs are rebuilt from source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { Btf } from '../src/object/btf/btf.js';
import { POISON_HELPER_ID } from '../src/object/btf/core.js';
import { TsbpfError } from '../src/errors.js';
import { BIN, ROOT } from './paths.js';
import { which } from './support/tools.js';
import { DIR, corpusKernelBtf, corpusKernelSymbols, recorded } from './real-progs/corpus.js';
import { runningKernelSymbols } from '../src/cli/kallsyms.js';

const rec = recorded();
const objs = Object.keys(rec.objects).sort();

/**
 * The verdict tsbpf must give: the kernel's, or, where the kernel refused the program before
 * verifying (no log: lsm programs on this machine), the one its source derives from the kernel's
 * source (`derived verdict: accept|reject (message)`), as the verifier corpus's `derived` cases.
 */
function want(o: string): { verdict: 'accept' | 'reject'; kernelMessage: string | null } {
  const r = rec.objects[o]!;
  if (r.verdict !== 'reject' || r.kernelMessage !== '') return r;
  const m = /derived verdict: (accept|reject)(?: \((.*)\))?/.exec(readFileSync(join(DIR, o.replace(/\.o$/, '.c')), 'utf8'));
  assert.ok(m, `${o}: the kernel refused it unjudged, and its source states no derived verdict`);
  return { verdict: m[1] as 'accept' | 'reject', kernelMessage: m[2] ?? null };
}

/** tsbpf's verdict on the one program of an object, against kernel BTF `k` (as `bpftool prog load` with libbpf's CO-RE). */
function tsbpf(path: string, k: Btf, log?: (l: string) => void, kernelSymbols = corpusKernelSymbols()): { verdict: 'accept' | 'reject'; message: string | null } {
  const coll = loadObjectFileSync(path);
  const progs = [...coll.programs.values()];
  assert.equal(progs.length, 1, `${path}: one program per object`);
  try {
    const r = verify(inputFromSpec(coll, progs[0]!, { privileged: true, coreTarget: k, kernelBtf: k, kernelSymbols, core: log ? { log } : {} }));
    // record.sh keeps the log's last line; a message of two lines ("Unreleased reference ...") is compared by its last
    return r.ok ? { verdict: 'accept', message: null } : { verdict: 'reject', message: r.error!.kernelMessage.split('\n').pop()! };
  } catch (e) {
    // what libbpf refuses before the kernel sees the program
    if (e instanceof TsbpfError) return { verdict: 'reject', message: e.message };
    throw e;
  }
}

test('the corpus objects are the recorded ones, and both verdicts occur', () => {
  assert.deepEqual(readdirSync(DIR).filter((f) => f.endsWith('.o')).sort(), objs);
  for (const o of objs) assert.ok(existsSync(join(DIR, o.replace(/\.o$/, '.c'))), `${o} has its source`);
  assert.deepEqual([...new Set(objs.map((o) => rec.objects[o]!.verdict))].sort(), ['accept', 'reject']);
});

test('tsbpf gives the kernel\'s verdict and message on every corpus program', () => {
  const k = corpusKernelBtf();
  const disagree: string[] = [];
  for (const o of objs) {
    const w = want(o);
    const got = tsbpf(join(DIR, o), k);
    if (got.verdict !== w.verdict || got.message !== w.kernelMessage)
      disagree.push(`${o}: kernel ${w.verdict} (${w.kernelMessage}), tsbpf ${got.verdict} (${got.message})`);
  }
  assert.deepEqual(disagree, []);
});

test('a guarded dead branch keeps its poisoned instruction out of reach; libbpf\'s log lines', () => {
  const lines: string[] = [];
  assert.equal(tsbpf(join(DIR, 'core_flavour_guarded.o'), corpusKernelBtf(), (l) => lines.push(l)).verdict, 'accept');
  // the same lines `bpftool -d prog load` prints (type ids are kernel.btf's)
  const at = "prog 'core_flavour_guarded':";
  assert.ok(lines.some((l) => /^CO-RE relocating \[7\] struct task_struct___x: found target candidate \[\d+\] struct task_struct in \[vmlinux\]$/.test(l)), lines.join('\n'));
  assert.ok(lines.includes(`${at} relo #0: <field_exists> [7] struct task_struct___x.__state (0:0 @ offset 0)`), lines.join('\n'));
  assert.ok(lines.some((l) => /^prog 'core_flavour_guarded': relo #1: matching candidate #0 <byte_off> \[\d+\] struct task_struct\.__state \(0:1 @ offset 24\)$/.test(l)), lines.join('\n'));
  assert.ok(lines.includes(`${at} relo #1: patched insn #3 (ALU/ALU64) imm 0 -> 24`), lines.join('\n'));
  assert.ok(lines.includes(`${at} relo #2: no matching targets found`), lines.join('\n'));
  assert.ok(lines.includes(`${at} relo #2: substituting insn #12 w/ invalid insn`), lines.join('\n'));
  const coll = loadObjectFileSync(join(DIR, 'core_flavour_guarded.o'));
  const insns = inputFromSpec(coll, [...coll.programs.values()][0]!, { coreTarget: corpusKernelBtf() }).insns;
  assert.deepEqual(insns[12], { code: 0x85, dst: 0, src: 0, off: 0, imm: POISON_HELPER_ID });
  // an unsigned field read narrower than the kernel's is resized; a signed one is poisoned
  const sized = loadObjectFileSync(join(DIR, 'core_size_unsigned.o'));
  const s = inputFromSpec(sized, [...sized.programs.values()][0]!, { coreTarget: corpusKernelBtf() }).insns[0]!;
  assert.deepEqual([s.code, s.off], [0x79, 112]);
});

const kernelSkip =
  process.getuid?.() !== 0 ? 'not root: cannot load programs into the kernel'
  : !which('bpftool') ? 'bpftool not installed'
  : !existsSync('/sys/kernel/btf/vmlinux') ? 'no /sys/kernel/btf/vmlinux'
  : false;

test('on the running kernel: the recorded verdicts hold, and tsbpf against its vmlinux agrees', { skip: kernelSkip }, () => {
  const r = spawnSync('bash', [join(DIR, 'record.sh'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const vmlinux = Btf.parse(new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')));
  const disagree = objs.filter((o) => tsbpf(join(DIR, o), vmlinux, undefined, runningKernelSymbols('/sys/kernel/btf/vmlinux')).verdict !== want(o).verdict);
  assert.deepEqual(disagree, []);
});

const clangSkip = !which('clang-19') ? 'clang-19 not installed' : !existsSync('/usr/include/bpf/bpf_helpers.h') ? 'libbpf-dev headers not installed' : false;

test('freshly built corpus programs get the recorded verdicts', { skip: clangSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-real-'));
  try {
    const b = spawnSync('bash', [join(ROOT, 'scripts/build-verifier-c.sh'), dir], { encoding: 'utf8', env: { ...process.env, SRC_DIR: DIR } });
    assert.equal(b.status, 0, b.stderr);
    const disagree = objs.filter((o) => tsbpf(join(dir, o), corpusKernelBtf()).verdict !== want(o).verdict);
    assert.deepEqual(disagree, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prog dump and prog load take --kernel-btf and relocate against it', () => {
  const kbtf = join(DIR, 'kernel.btf');
  const obj = join(DIR, 'core_size_unsigned.o');
  const dump = spawnSync(process.execPath, [BIN, 'prog', 'dump', 'xlated', obj, 'core_size_unsigned', '--kernel-btf', kbtf], { encoding: 'utf8' });
  assert.equal(dump.status, 0, dump.stderr);
  // pt_regs->di of the kernel: offset 112, 8 bytes (the local field was 4 bytes at 0)
  assert.match(dump.stdout, /0: \(79\) r0 = \*\(u64 \*\)\(r1 \+112\)/);
  const load = spawnSync(process.execPath, [BIN, 'prog', 'load', join(DIR, 'btf_walk_pointers.o'), '--kernel-btf', kbtf, '-l', '2'], { encoding: 'utf8' });
  assert.equal(load.status, 0, load.stdout + load.stderr);
  assert.match(load.stdout, /R1=rcu_ptr_task_struct\(\)/);
  assert.match(load.stdout, /R1=untrusted_ptr_mm_struct\(\)/);
  for (const cmd of [['prog', 'dump'], ['prog', 'load'], ['xdp']]) {
    const help = spawnSync(process.execPath, [BIN, ...cmd, '--help'], { encoding: 'utf8' });
    assert.match(help.stdout + help.stderr, /--kernel-btf F/, cmd.join(' '));
  }
});
