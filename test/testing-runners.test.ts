/**
 * tsbpf/testing in a user's own runner: the guide's runner-neutral suite
 * (examples/testing/guide.suite.mjs) run through its node:test entry in a
 * child process, importing `tsbpf/testing` by the package's own name (the
 * package's exports, as a user's project resolves them). Vitest and Jest run
 * the same suite in CI (.ci/suites/56-test-runners.sh), where npm installs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

/** The child is a runner of its own: without the parent runner's NODE_TEST_CONTEXT it reports in TAP, not to the parent. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

test('runners: the guide suite passes under node:test through the package name', () => {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(ROOT, 'examples/testing/guide.node.test.mjs')], { encoding: 'utf8', cwd: ROOT, env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^# pass 5$/m);
  assert.match(r.stdout, /^# fail 0$/m);
});

test('runners: a failing assertion in the suite fails the node:test run', () => {
  // The suite's assertions are node:assert's: a runner sees a thrown AssertionError as a failure.
  const src = `import { test } from 'node:test'; import assert from 'node:assert/strict'; import { TestKit } from 'tsbpf/testing';
test('wrong pid', async () => { const kit = new TestKit(); try { assert.equal(kit.task.get('pid'), 1n); } finally { kit.close(); } });`;
  const r = spawnSync(process.execPath, ['--test-reporter=tap', '--input-type=module', '-e', src], { encoding: 'utf8', cwd: ROOT, env });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /^# fail 1$/m);
});
