#!/usr/bin/env node
/**
 * The test command (`npm test`): every dist/test/**\/*.test.js file in its own Node process,
 * with node:test's spec reporter, and one summary at the end.
 *
 * Why not `node --test` alone: Node 20 can deadlock while a finished process shuts down
 * (NodePlatform::DrainTasks waiting on a worker task that waits on the main thread:
 * nodejs/node#54918, fixed upstream by a timed drain). The file's tests have all run and
 * reported, but the process never exits, and `node --test` waits for it forever. Here a process
 * that has printed its summary and does not exit within TSBPF_TEST_EXIT_GRACE seconds (30) is
 * killed, its own summary stands, and a warning says so. A file that prints no summary within
 * TSBPF_TEST_FILE_TIMEOUT seconds (1800) is killed and counted as failed: a hang is a failure,
 * never a wait without end. `--test-force-exit` is not used: it ends a file's process as soon as
 * the tests registered so far are done, silently dropping tests registered after an `await`.
 *
 * Usage: node scripts/run-tests.mjs [NODE-OPTION...] [FILE...]
 *   FILE: default every test file under dist/test; NODE-OPTION (anything starting with `-`, such
 *   as --test-name-pattern=X) is given to each file's process.
 * TSBPF_TEST_JOBS: files run at once (default: the number of cores less one, at least one).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`run-tests: ${name}=${raw} is not a positive number of seconds`);
    process.exit(2);
  }
  return n;
}

const exitGrace = seconds('TSBPF_TEST_EXIT_GRACE', 30);
const fileTimeout = seconds('TSBPF_TEST_FILE_TIMEOUT', 1800);
const jobs = Math.floor(seconds('TSBPF_TEST_JOBS', Math.max(1, availableParallelism() - 1)));

const args = process.argv.slice(2);
const nodeOptions = args.filter((a) => a.startsWith('-'));
const named = args.filter((a) => !a.startsWith('-'));
const files = named.length > 0
  ? named
  : readdirSync('dist/test', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.js'))
      .map((f) => join('dist/test', f))
      .sort();
if (files.length === 0) {
  console.error('run-tests: no test files (run `npm run build` first)');
  process.exit(2);
}

/** The spec reporter's closing lines (`ℹ tests 12` ... `ℹ duration_ms 80`), or undefined. */
function summaryOf(text) {
  if (!/^ℹ duration_ms /m.test(text)) return undefined;
  const counts = {};
  for (const key of COUNTS) {
    const m = new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(text);
    counts[key] = m ? Number(m[1]) : 0;
  }
  return counts;
}

const children = new Set();

/** Runs one file; resolves to { file, summary, status, note }. */
function runFile(file, stream) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test-reporter=spec', ...nodeOptions, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    let out = '';
    let summary;
    let note = '';
    let graceTimer;
    const fileTimer = setTimeout(() => {
      note = `no summary after ${fileTimeout} s: killed (a hang is a failure)`;
      child.kill('SIGKILL');
    }, fileTimeout * 1000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (stream) process.stdout.write(chunk);
      if (summary === undefined && (summary = summaryOf(out)) !== undefined) {
        clearTimeout(fileTimer);
        graceTimer = setTimeout(() => {
          note = `printed its summary but did not exit within ${exitGrace} s (Node's shutdown deadlock, nodejs/node#54918): killed, its summary stands`;
          child.kill('SIGKILL');
        }, exitGrace * 1000);
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(fileTimer);
      clearTimeout(graceTimer);
      children.delete(child);
      if (!stream) process.stdout.write(out);
      summary ??= summaryOf(out);
      let status = 'ok';
      if (summary === undefined) status = 'failed';
      else if (summary.fail > 0 || summary.cancelled > 0) status = 'failed';
      else if (code !== 0 && !(signal === 'SIGKILL' && note.includes('its summary stands'))) status = 'failed';
      if (status === 'failed' && note === '' && summary === undefined) {
        note = `exited (${signal ?? `code ${code}`}) without a summary`;
      } else if (status === 'failed' && note === '' && code !== 0 && summary.fail === 0 && summary.cancelled === 0) {
        note = `exited with code ${code} although no test failed`;
      }
      if (note) console.log(`${status === 'failed' ? '✖' : '⚠'} ${file}: ${note}`);
      resolve({ file, summary, status });
    });
  });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

const started = performance.now();
const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    results.push(await runFile(file, jobs === 1));
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

const total = Object.fromEntries(COUNTS.map((k) => [k, 0]));
for (const r of results) for (const k of COUNTS) total[k] += r.summary?.[k] ?? 0;
const failed = results.filter((r) => r.status === 'failed').map((r) => r.file).sort();
console.log(`\n=== ${files.length} test files`);
for (const k of COUNTS) console.log(`ℹ ${k} ${total[k]}`);
console.log(`ℹ duration_ms ${(performance.now() - started).toFixed(0)}`);
if (failed.length > 0) {
  console.log(`✖ ${failed.length} file(s) failed:`);
  for (const f of failed) console.log(`  ${f}`);
  process.exit(1);
}
