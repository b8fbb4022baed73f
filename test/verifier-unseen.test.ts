/**
 * Opt-in: tsbpf's verdicts beside Linux's on clang-19 objects the project has
 * never seen (issue 5, "Done when"). Set TSBPF_UNSEEN_OBJECTS to one or more
 * directories of .o files (colon-separated), e.g. kernel selftest objects
 * built from tools/testing/selftests/bpf/progs; needs root, cc and libbpf-dev
 * for the kernel's side. The table is printed (see test/verifier-unseen.ts).
 *
 * tsbpf judges every program twice (test/verifier-unseen.ts unseenModes): against
 * its shipped kernel-BTF subset and against the running kernel's BTF (as
 * `--kernel-btf` does); the kernel's verdict is taken once. Asserted, in each
 * mode: tsbpf never crashes or fails internally on any program, and it never
 * accepts a program the kernel's verifier rejects except the known cases
 * listed below (each one analysed in the team's unseen-objects notes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildLoader, objectsIn, runObject, summarize, unseenModes, type ProgResult } from './verifier-unseen.js';
import { testProgress } from './progress.js';
import { ROOT } from './paths.js';

/** tsbpf accepts, Linux rejects: known, analysed, not yet fixed ("object prog"), if any. */
const KNOWN_ACCEPTS = new Set<string>([
  // (none: tsbpf refuses exception callbacks outright, so exceptions_fail.o's reject_*_exception_cb*
  // programs are no longer accepted)
]);

const dirs = (process.env.TSBPF_UNSEEN_OBJECTS ?? '').split(':').filter(Boolean);
const why = !dirs.length ? 'TSBPF_UNSEEN_OBJECTS is not set (a directory of clang-built .o files)'
  : dirs.find((d) => !existsSync(d)) ? `${dirs.find((d) => !existsSync(d))} does not exist`
  : process.getuid?.() !== 0 ? 'loading programs into the kernel needs root'
  : undefined;

test('tsbpf and Linux on unseen objects', { skip: why ?? false }, () => {
  const loader = buildLoader();
  if (!loader.path) {
    console.log(`skipped: ${loader.why}`);
    return;
  }
  const results: ProgResult[] = [];
  const objects = objectsIn(dirs);
  const modes = unseenModes();
  // On a terminal (TSBPF_PROGRESS=1 from .ci/suites/45-verifier-unseen.sh): objects done, programs so far.
  const progress = testProgress('unseen objects:', objects.length);
  for (const [i, o] of objects.entries()) {
    results.push(...runObject(loader.path, o, undefined, modes));
    progress.update(i + 1, `${results.length / modes.length} programs`);
  }
  progress.close();
  console.log(summarize(results, dirs));
  assert.ok(results.length > 0, 'no programs found');
  const crashes = results.filter((r) => r.tsbpfErrno === 'CRASH' || /verifier internal error/.test(r.tsbpfMsg));
  assert.deepEqual(crashes.map((r) => `[${r.mode}] ${r.object} ${r.prog}: ${r.tsbpfMsg}`), []);
  // tsbpf accepting what Linux rejects is a security bug; rejecting what Linux accepts is a wrong verdict too
  const unsound = results.filter((r) => r.outcome === 'DISAGREE' && r.tsbpf === 'accept' && !KNOWN_ACCEPTS.has(`${r.object} ${r.prog}`));
  assert.deepEqual(unsound.map((r) => `[${r.mode}] ${r.object} ${r.prog}: kernel ${r.kernelErrno} ${r.kernelMsg}`), []);
  const strict = results.filter((r) => r.outcome === 'DISAGREE' && r.tsbpf === 'reject');
  assert.deepEqual(strict.map((r) => `[${r.mode}] ${r.object} ${r.prog}: tsbpf ${r.tsbpfErrno} ${r.tsbpfMsg}`), []);
});

// The loader itself (test/verifier-unseen/oloader.c): a load the kernel refused before its verifier
// walked the program (a log of the statistics alone, "processed 0 insns") is no verdict, not an
// accept; the accepted control beside it stays one.
test('a load the kernel refuses before verifying is a kernel-load-error, not an accept', { skip: process.getuid?.() !== 0 ? 'loading programs into the kernel needs root' : false }, (t) => {
  const loader = buildLoader();
  if (!loader.path) return t.skip(loader.why);
  const rows = runObject(loader.path, join(ROOT, 'test/verifier-unseen/progs/unwalked.o'), undefined, ['subset']);
  const got = Object.fromEntries(rows.map((r) => [r.prog, `${r.kernel} ${r.kernelErrno} ${r.outcome}`]));
  assert.deepEqual(got, {
    not_an_iterator: 'error EINVAL kernel-load-error',
    accepted: 'accept - agree-accept',
  });
  assert.match(rows.find((r) => r.prog === 'not_an_iterator')!.kernelMsg, /before its verifier walked it \(processed 0 insns\)/);
});

if (why) console.log(`verifier-unseen: skipped (${why})`);
