/**
 * The browser side of browser-core.test.ts: imports tsbpf's core exactly as
 * a web page would (`/dist/src/core.js`, ES modules, no bundler), runs
 * scenario.ts over fixtures fetched from the test's static server, on the
 * main thread and then in a module Web Worker, and writes both results as
 * JSON into `<pre id="result">` for `--dump-dom`.
 *
 * Chromium refuses synchronous WebAssembly compilation of modules over a
 * size limit on the main thread: 8 MB on desktop since 2024, 4 KB on Android
 * and before. The main-thread run enforces the strict 4 KB rule (the same
 * RangeError) and records every compilation, so the test can show that
 * loading never compiles a large module synchronously (the runtime's load
 * path uses the JIT's prepareAsync).
 */
import * as core from '../../src/core.js';
import { runScenario } from './scenario.js';
import { failure, fetchFixture, type RunReport } from './fixtures.js';

/** Chromium's historical (and Android's) main-thread limit for synchronous compilation. */
const SYNC_LIMIT = 4096;
const compiles = { sync: [] as number[], async: [] as number[] };
const size = (b: unknown): number => (b instanceof ArrayBuffer || ArrayBuffer.isView(b) ? b.byteLength : -1);

const NativeModule = WebAssembly.Module;
class GuardedModule extends NativeModule {
  constructor(bytes: BufferSource) {
    const n = size(bytes);
    compiles.sync.push(n);
    if (n > SYNC_LIMIT) throw new RangeError(`WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB (emulated; got ${n} bytes)`);
    super(bytes);
  }
}
WebAssembly.Module = GuardedModule;
const nativeInstantiate = WebAssembly.instantiate.bind(WebAssembly) as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>;
const nativeCompile = WebAssembly.compile.bind(WebAssembly);
(WebAssembly as { instantiate: unknown }).instantiate = (src: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
  if (!(src instanceof NativeModule)) compiles.async.push(size(src));
  return nativeInstantiate(src, imports);
};
WebAssembly.compile = (bytes: BufferSource): Promise<WebAssembly.Module> => {
  compiles.async.push(size(bytes));
  return nativeCompile(bytes);
};

/** The scenario in a module worker; its report comes back through the server (worker.ts says why). */
async function inWorker(): Promise<RunReport> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const abort = new AbortController();
  let failed: RunReport | undefined;
  worker.onerror = (ev: ErrorEvent) => {
    // A failed fetch or parse of worker.js or an import is a plain Event, without a message.
    failed = { ok: false, error: `worker: ${ev.message ?? 'worker.js or one of its imports failed to load or parse'}` };
    abort.abort();
  };
  try {
    const res = await fetch('/wait/worker', { signal: abort.signal });
    if (!res.ok) return { ok: false, error: `the worker did not report (GET /wait/worker: ${res.status})` };
    return (await res.json()) as RunReport;
  } catch (e) {
    return failed ?? failure(e);
  } finally {
    worker.terminate();
  }
}

// One request stays in flight for the whole run: headless Chromium's virtual
// time does not advance while a fetch is pending, so --virtual-time-budget
// cannot run out (and the DOM be dumped early) while the main thread idles
// waiting on asynchronous compilation or the worker. POST /report/page ends it.
const hold = fetch('/wait/page').catch(() => undefined);
const out = document.getElementById('result')!;
let main: RunReport;
try {
  main = { ok: true, result: await runScenario(core, fetchFixture) };
} catch (e) {
  main = failure(e);
}
const worker = await inWorker();
const json = JSON.stringify({ userAgent: navigator.userAgent, main, compiles, worker });
out.textContent = json;
await fetch('/report/page', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
await hold;
