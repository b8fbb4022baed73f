/**
 * scripts/run-tests.mjs, the test command's runner: a file's process that hangs after its
 * summary (Node's shutdown deadlock) is killed and its summary stands; a file that hangs before
 * it is a failure; failures and late-registered tests are counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-run-tests-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const head = `import { test } from 'node:test';\nimport assert from 'node:assert';\n`;
const file = (name: string, body: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, head + body);
  return path;
};

const passing = file('pass.mjs', `test('a', () => assert.equal(1, 1));\nawait new Promise((r) => setTimeout(r, 10));\ntest('after an await', () => assert.equal(2, 2));\n`);
const failing = file('fail.mjs', `test('b', () => assert.equal(1, 2));\n`);
// Prints what the spec reporter prints at the end, then never exits: the deadlock's symptom.
const stuckAfter = join(tmp, 'stuck-after.mjs');
writeFileSync(stuckAfter, `process.stdout.write('✔ c (1ms)\\nℹ tests 1\\nℹ pass 1\\nℹ fail 0\\nℹ duration_ms 1\\n');\nsetInterval(() => {}, 1000);\n`);
const stuckBefore = file('stuck-before.mjs', `test('d', () => new Promise(() => setInterval(() => {}, 1000)));\n`);

function run(files: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/run-tests.mjs'), ...files], {
    encoding: 'utf8',
    env: { ...process.env, TSBPF_TEST_JOBS: '2', ...env },
    timeout: 60_000,
  });
  const count = (key: string) => Number(/=== \d+ test files[\s\S]*/.exec(r.stdout)?.[0].match(new RegExp(`ℹ ${key} (\\d+)`))?.[1]);
  return { status: r.status, stdout: r.stdout, count };
}

test('run-tests: passing files pass, tests registered after an await are run and counted', () => {
  const r = run([passing]);
  assert.equal(r.status, 0, r.stdout);
  assert.equal(r.count('tests'), 2);
  assert.match(r.stdout, /✔ after an await/);
});

test('run-tests: a failing test fails the run and names its file', () => {
  const r = run([passing, failing]);
  assert.equal(r.status, 1);
  assert.equal(r.count('fail'), 1);
  assert.equal(r.count('pass'), 2);
  assert.match(r.stdout, /failed:\n\s+.*fail\.mjs/);
});

test('run-tests: a process stuck after its summary is killed and its summary stands', () => {
  const r = run([passing, stuckAfter], { TSBPF_TEST_EXIT_GRACE: '1' });
  assert.equal(r.status, 0, r.stdout);
  assert.equal(r.count('tests'), 3);
  assert.match(r.stdout, /stuck-after\.mjs: printed its summary but did not exit within 1 s/);
});

test('run-tests: a process stuck before its summary fails the run', () => {
  const r = run([stuckBefore], { TSBPF_TEST_FILE_TIMEOUT: '2' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /stuck-before\.mjs: no summary after 2 s: killed/);
});

test('run-tests: a bad setting is refused with its name', () => {
  const r = run([passing], { TSBPF_TEST_EXIT_GRACE: 'soon' });
  assert.equal(r.status, 2);
});
