/**
 * Real clang-19 objects through the verifier (issue 5, part 6): every
 * fixture (fixtures/*.o, all accepted by Linux) and the corpus's own C
 * programs (test/verifier-corpus/c/*.o, accepted and rejected; verdicts
 * recorded from `bpftool prog loadall` in c/verdicts.json) must get the
 * kernel's verdict from tsbpf's verify(). Where root and bpftool are present
 * the kernel's verdicts are re-checked live; where clang-19 is present the C
 * programs are rebuilt from source and the fresh objects checked too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { FIXTURES, ROOT } from './paths.js';
import { loadObjectCases, OBJECTS_DIR } from './support/verifier-cases.js';
import { which } from './support/tools.js';
import { bpftoolLoadall } from './support/bpftool.js';

const objects = loadObjectCases();

/** tsbpf's verdict on an object: accept when every program is accepted (as `bpftool prog loadall`). */
function tsbpfVerdict(path: string): { verdict: 'accept' | 'reject'; why: string } {
  try {
    const coll = loadObjectFileSync(path);
    for (const prog of coll.programs.values()) {
      const r = verify(inputFromSpec(coll, prog));
      if (!r.ok) return { verdict: 'reject', why: `${prog.name}: ${r.error?.kernelMessage}` };
    }
    return { verdict: 'accept', why: '' };
  } catch (e) {
    return { verdict: 'reject', why: `CRASH ${(e as Error).message}` };
  }
}

/**
 * Fixtures that use kernel-only features tsbpf does not offer: Linux accepts
 * them, tsbpf must refuse them naming the feature. Listed in the summary as
 * divergences, never counted as agreement. (None today: externs.o, a tp_btf
 * program calling the bpf_rcu_read_lock/unlock kfuncs, is verified as Linux
 * verifies it.)
 */
const UNSUPPORTED_OBJECTS: Record<string, RegExp> = {};

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.o') && !f.endsWith('.bpfeb.o')).sort();
const cobjs = objects.map((o) => o.name);

test('the C programs of the corpus have recorded verdicts, both accepting and rejecting', () => {
  const onDisk = readdirSync(OBJECTS_DIR).filter((f) => f.endsWith('.o')).sort();
  assert.deepEqual(onDisk, cobjs);
  const kinds = new Set(objects.map((o) => o.verdict));
  assert.deepEqual([...kinds].sort(), ['accept', 'reject']);
});

test('tsbpf agrees with Linux on the fixtures and the corpus C objects', () => {
  const disagree: string[] = [];
  const diverge: string[] = [];
  for (const f of fixtures) {
    const t = tsbpfVerdict(join(FIXTURES, f));
    const unsupported = UNSUPPORTED_OBJECTS[f];
    if (unsupported) {
      if (t.verdict === 'reject' && unsupported.test(t.why ?? '')) diverge.push(`  fixtures/${f}: kernel accept, tsbpf refuses (${t.why})`);
      else disagree.push(`  fixtures/${f}: expected tsbpf to refuse it with ${unsupported}, got ${t.verdict} (${t.why})`);
      continue;
    }
    if (t.verdict !== 'accept') disagree.push(`  fixtures/${f}: kernel accept, tsbpf reject (${t.why})`);
  }
  for (const want of objects) {
    const t = tsbpfVerdict(want.path);
    if (t.verdict !== want.verdict) disagree.push(`  c/${want.name}: kernel ${want.verdict}${want.kernelMessage ? ` (${want.kernelMessage})` : ''}, tsbpf ${t.verdict}${t.why ? ` (${t.why})` : ''}`);
  }
  const n = fixtures.length + cobjs.length;
  console.log(`objects: ${n - disagree.length - diverge.length} agree, ${disagree.length} disagree, ${diverge.length} unsupported by tsbpf`);
  if (diverge.length) console.log(diverge.join('\n'));
  if (disagree.length) console.log(disagree.join('\n'));
  assert.equal(disagree.length, 0, disagree.join('\n'));
});

const kernelSkip =
  process.getuid?.() !== 0 ? 'not root: cannot load programs into the kernel' : !which('bpftool') ? 'bpftool not installed' : false;

test('the recorded verdicts still hold on the running kernel', { skip: kernelSkip }, () => {
  spawnSync('sh', ['-c', 'grep -qs " /sys/fs/bpf bpf " /proc/mounts || mount -t bpf bpf /sys/fs/bpf']);
  const problems: string[] = [];
  const check = (path: string, want: 'accept' | 'reject'): void => {
    const r = bpftoolLoadall(path);
    // libbpf 1.x cannot open some objects at all (legacy `maps` section definitions):
    // the kernel never sees those programs, so there is no verdict to compare.
    if (r.status !== 0 && /failed to open object file/.test(r.stderr)) {
      console.log(`${path}: bpftool cannot open it (libbpf ${'>'}= 1.0 dropped legacy map definitions): not judged`);
      return;
    }
    const got = r.status === 0 ? 'accept' : 'reject';
    if (got !== want) problems.push(`${path}: recorded ${want}, kernel ${got}: ${r.stderr.split('\n').filter((l) => l && !l.startsWith('libbpf:')).slice(-2).join(' ')}`);
  };
  for (const f of fixtures) check(join(FIXTURES, f), 'accept');
  for (const o of objects) check(o.path, o.verdict);
  assert.deepEqual(problems, []);
});

const clangSkip = !which('clang-19') ? 'clang-19 not installed' : !existsSync('/usr/include/bpf/bpf_helpers.h') ? 'libbpf-dev headers not installed' : false;

test('freshly built C programs get the recorded verdicts', { skip: clangSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vc-'));
  try {
    const b = spawnSync('bash', [join(ROOT, 'scripts/build-verifier-c.sh'), dir], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    const disagree: string[] = [];
    for (const o of objects) {
      const t = tsbpfVerdict(join(dir, o.name));
      if (t.verdict !== o.verdict) disagree.push(`${o.name}: kernel ${o.verdict}, tsbpf ${t.verdict} (${t.why})`);
    }
    assert.deepEqual(disagree, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
