/**
 * The scenario in a module Web Worker (no limit on synchronous WebAssembly
 * compilation there): the core must work the same off the main thread.
 *
 * The report goes to the test's server (POST /report/worker), which hands it
 * to the page's pending GET /wait/worker: a pending request keeps Chromium's
 * virtual time from running out while only the worker is busy (a message
 * from the worker would arrive after --virtual-time-budget had expired).
 */
import * as core from '../../src/core.js';
import { runScenario } from './scenario.js';
import { failure, fetchFixture, type RunReport } from './fixtures.js';

let report: RunReport;
try {
  report = { ok: true, result: await runScenario(core, fetchFixture) };
} catch (e) {
  report = failure(e);
}
await fetch('/report/worker', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(report) });
