/**
 * test/progress.ts: the progress line of long runs (src/cli/progress.ts's) is shown on a terminal
 * and nowhere else (`npm run fuzz` here, as a user runs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';
import { which } from './support/tools.js';

const FUZZ = resolve(ROOT, 'dist/test/fuzz/run-verifier-fuzz.js');
const hasScript = which('script');

test('npm run fuzz: no progress line when stderr is not a terminal', () => {
  const r = spawnSync(process.execPath, [FUZZ, '--count', '20', '--seed', '7'], { encoding: 'utf8', env: { ...process.env, TSBPF_PROGRESS: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /verifier fuzz: 20 programs, \d+ accepted/);
  assert.doesNotMatch(r.stdout, /\r/);
});

test('npm run fuzz: a progress line, rewritten in place, on a terminal', { skip: !hasScript && 'script (util-linux) is not installed: no pseudo-terminal to run under' }, () => {
  // script(1) runs the fuzzer on a pseudo-terminal and copies what it writes there to stdout.
  const r = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(FUZZ)} --count 20 --seed 7`, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\r\x1b\[Kverifier fuzz: \[#+\] 20\/20 \d+ accepted, 0 bugs, 0 crash/); // cut at the terminal's 80 columns
  assert.match(r.stdout, /verifier fuzz: 20 programs, \d+ accepted/);
});
