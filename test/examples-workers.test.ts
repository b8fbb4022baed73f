/**
 * docs/workers.md's example, as a user runs it: `node examples/workers.mjs`
 * (four worker threads over a shared runtime, importing the package by name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

test('examples/workers.mjs: no lost increment, one per-CPU slot per worker', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples/workers.mjs')], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hits 400000n\nper_cpu [ 0n, 100000n, 100000n, 100000n, 100000n ]\n');
});
