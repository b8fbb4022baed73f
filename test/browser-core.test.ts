/**
 * tsbpf's core in a real browser: headless Chromium loads test/browser/index.html
 * from a static server in this process, imports `/dist/src/core.js` as an ES
 * module (no bundler), fetches fixtures, parses, verifies, JIT-compiles to
 * WebAssembly and runs them (test/browser/scenario.ts), and writes the result
 * into the DOM; `--dump-dom` hands the DOM back. The same scenario runs here
 * under Node, and the two results must be equal, field by field.
 *
 * core-portable.test.ts checks statically that no core module imports a Node
 * API; this test checks that the core actually runs without one.
 *
 * Chromium comes from TSBPF_CHROMIUM, else the first of /usr/bin/chromium,
 * chromium, chromium-browser, google-chrome on PATH; without one the test
 * skips with a printed reason (CI installs Debian's `chromium` in
 * .ci/suites/60-browser.sh and runs this file there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromiumPath } from './playground-chromium.js';
import { FIXTURES, ROOT } from './paths.js';
import * as core from '../src/core.js';
import { LARGE_STEPS, runScenario, type ScenarioResult } from './browser/scenario.js';

/** Real-time limit for one Chromium run; it is killed (with its whole process group) past it. */
const CHROMIUM_TIMEOUT_MS = 90_000;

/** The Chromium binary to use, or the reason there is none (one finder for every browser test). */
const findChromium = chromiumPath;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.o': 'application/octet-stream',
  '.map': 'application/json',
};

/** How long GET /wait/NAME waits for POST /report/NAME before answering 504. */
const WAIT_MS = 60_000;

/**
 * A static server for the page: `/` is test/browser/index.html, `/dist/...`
 * and `/fixtures/...` are the repository's folders. Nothing outside them is
 * served (a path that normalizes elsewhere is 404). Plus a relay for the
 * worker's report: POST /report/NAME stores a body, GET /wait/NAME answers
 * with it once it is there (worker.ts says why).
 */
async function serve(): Promise<{ server: Server; origin: string; requests: string[]; notFound: string[]; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const roots = new Map([['dist', resolve(ROOT, 'dist')], ['fixtures', FIXTURES]]);
  const reports = new Map<string, Buffer>();
  const waiters = new Map<string, Array<(body: Buffer | undefined) => void>>();
  const timers = new Set<NodeJS.Timeout>();
  const files = new Map<string, Buffer>();
  const notFound: string[] = [];
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad path');
      return;
    }
    requests.push(path);
    const relay = /^\/(report|wait)\/(\w+)$/.exec(path);
    if (relay && relay[1] === 'report' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        reports.set(relay[2]!, body);
        for (const w of waiters.get(relay[2]!) ?? []) w(body);
        waiters.delete(relay[2]!);
        res.writeHead(204).end();
      });
      return;
    }
    if (relay && relay[1] === 'wait') {
      const answer = (body: Buffer | undefined): void => {
        if (body) res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-store' }).end(body);
        else res.writeHead(504, { 'Content-Type': 'text/plain' }).end('no report');
      };
      const have = reports.get(relay[2]!);
      if (have) return answer(have);
      const timer = setTimeout(() => {
        timers.delete(timer);
        const list = waiters.get(relay[2]!) ?? [];
        const at = list.indexOf(done);
        if (at >= 0) list.splice(at, 1);
        answer(undefined);
      }, WAIT_MS);
      timers.add(timer);
      const done = (body: Buffer | undefined): void => {
        clearTimeout(timer);
        timers.delete(timer);
        answer(body);
      };
      waiters.set(relay[2]!, [...(waiters.get(relay[2]!) ?? []), done]);
      return;
    }
    let file: string | undefined;
    if (path === '/' || path === '/index.html') file = resolve(ROOT, 'test/browser/index.html');
    else {
      const [, top, ...rest] = path.split('/');
      const root = top !== undefined ? roots.get(top) : undefined;
      if (root) {
        const f = normalize(join(root, ...rest));
        if (f.startsWith(root + sep)) file = f;
      }
    }
    const type = file ? TYPES[extname(file)] : undefined;
    // Read once per run: the main thread and the worker get the same bytes.
    let body = file ? files.get(file) : undefined;
    try {
      if (!body && file && type) files.set(file, (body = readFileSync(file)));
    } catch {
      body = undefined;
    }
    if (!body) {
      if (path !== '/favicon.ico') notFound.push(path);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': type!, 'Content-Length': body.length, 'Cache-Control': 'no-store' }).end(body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  const stop = async (): Promise<void> => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  };
  return { server, origin: `http://127.0.0.1:${port}`, requests, notFound, stop };
}

/** Run Chromium headless on `url` and return the serialized DOM (stdout of --dump-dom). */
function dumpDom(chromium: string, url: string): Promise<{ dom: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'tsbpf-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    `--user-data-dir=${profile}`,
    // Virtual time advances only while no fetch is in flight; the page keeps
    // one (GET /wait/page) open until it has reported, so the DOM is dumped
    // once the result is in, whatever runs off the main thread. The
    // real-time limit is CHROMIUM_TIMEOUT_MS below.
    '--virtual-time-budget=30000',
    '--dump-dom',
    url,
  ];
  return new Promise((ok, fail) => {
    // Its own process group, so that a timeout kills the browser's helpers too.
    const child = spawn(chromium, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // (minus the noise of a machine without D-Bus)
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d.split('\n').filter((l) => !/dbus|unexpected operator/.test(l)).join('\n')).slice(-20_000)));
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, CHROMIUM_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      // Leftover helpers of the group (the zygote) go with the browser.
      kill();
      rmSync(profile, { recursive: true, force: true });
    };
    child.on('error', (e) => {
      done();
      fail(e);
    });
    child.on('close', (code, signal) => {
      done();
      if (timedOut) fail(new Error(`Chromium did not finish within ${CHROMIUM_TIMEOUT_MS} ms; stderr:\n${stderr}`));
      else if (code !== 0) fail(new Error(`Chromium exited with ${code ?? signal}; stderr:\n${stderr}`));
      else ok({ dom: stdout, stderr });
    });
  });
}

interface RunReport {
  ok: boolean;
  error?: string;
  stack?: string;
  result?: ScenarioResult;
}

/** What test/browser/page.ts writes into the DOM. */
interface PageReport {
  userAgent: string;
  /** the scenario on the page's main thread, where synchronous compilation over 4 KB throws */
  main: RunReport;
  /** byte sizes of the WebAssembly modules the main thread compiled, synchronously and asynchronously */
  compiles: { sync: number[]; async: number[] };
  /** the scenario in a module Web Worker */
  worker: RunReport;
}

function pageReport(dom: string, stderr: string, served: string): PageReport {
  const m = /<pre id="result">([\s\S]*?)<\/pre>/.exec(dom);
  assert.ok(m, `no <pre id="result"> in the dumped DOM:\n${dom.slice(0, 2000)}\nstderr:\n${stderr}`);
  const text = m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');
  assert.notEqual(text, 'pending', `the page's module script never finished; Chromium's stderr:\n${stderr}`);
  const report = JSON.parse(text) as PageReport & { pageError?: string };
  // a module graph that did not load says only "could not load": name what the server saw, and Chromium's words
  assert.equal(report.pageError, undefined, `the page failed: ${report.pageError}\n${served}\nChromium's stderr:\n${stderr}`);
  return report;
}

const found = findChromium();
const skip = 'reason' in found ? found.reason : false;
if (skip) console.log(`# browser-core: skipped: ${skip}`);

test('the core runs in headless Chromium: parse, verify, JIT to WebAssembly, test-run, maps, verifier errors', { skip, timeout: CHROMIUM_TIMEOUT_MS + 30_000 }, async () => {
  const chromium = (found as { path: string }).path;
  const node = await runScenario(core, (name) => readFile(join(FIXTURES, name)).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.length)));
  const { origin, requests, notFound, stop } = await serve();
  let page: PageReport;
  try {
    const { dom, stderr } = await dumpDom(chromium, `${origin}/`);
    page = pageReport(dom, stderr, `${requests.length} requests served; not found: ${notFound.join(' ') || 'none'}; last: ${requests.slice(-5).join(' ')}`);
  } finally {
    await stop();
  }
  assert.deepEqual(notFound, [], 'the page asked for files the server does not have');
  assert.match(page.userAgent, /HeadlessChrome|Chromium|Chrome/);
  assert.ok(page.main.ok, `the scenario failed on the page's main thread: ${page.main.error}\n${page.main.stack}`);
  assert.ok(page.worker.ok, `the scenario failed in a module worker: ${page.worker.error}\n${page.worker.stack}`);
  // The page really fetched the core as ES modules and the fixtures over HTTP.
  for (const p of ['/dist/src/core.js', '/dist/src/vm/jit/engine.js', '/dist/src/verifier/index.js', '/dist/test/browser/worker.js', '/fixtures/xdp_firewall.o', '/fixtures/bpf2bpf.o']) {
    assert.ok(requests.includes(p), `the page did not request ${p}`);
  }
  const web = page.main.result!;

  // What the same code gives under Node, field by field, on the main thread and in a worker.
  assert.deepEqual(web, node);
  assert.deepEqual(page.worker.result, node);

  // Runtime.load/loadProgram use the JIT's prepareAsync: modules over 4 KB are compiled
  // asynchronously (the page's main thread throws on a larger synchronous compile), smaller
  // ones synchronously (every browser allows that).
  assert.ok(web.large.program.wasmBytes > 4096);
  assert.ok(page.compiles.async.includes(web.large.program.wasmBytes), 'the large module was not compiled asynchronously');
  for (const p of [web.firewall.program, web.bpf2bpf.program]) assert.ok(page.compiles.sync.includes(p.wasmBytes), `module of ${p.wasmBytes} bytes not compiled`);
  assert.ok(page.compiles.sync.every((n) => n <= 4096), `synchronous compiles over 4 KB: ${page.compiles.sync}`);

  // And what it is: the JIT ran the programs (not the interpreter), after the verifier.
  for (const prog of [web.firewall.program, web.bpf2bpf.program]) {
    assert.equal(prog.engine, 'jit');
    assert.equal(prog.jitEngine, true);
    assert.ok(prog.wasmBytes > 0, 'no WebAssembly module was compiled');
    assert.equal(prog.verified, true);
  }
  assert.deepEqual(web.firewall.programs, ['xdp_firewall', 'xdp_pass']);
  assert.deepEqual(web.firewall.maps, ['blocklist', 'proto_count']);
  // XDP_PASS (2) for IPv4 and non-IP, XDP_DROP (1) for a cut IPv4 header and a blocked source.
  assert.deepEqual(web.firewall.runs.map((r) => r.retval), [2, 2, 2, 1, 2, 1]);
  assert.deepEqual(web.firewall.interpreterRetvals, [2, 1, 2, 1]);
  // The program leaves packets alone: data_out is data_in.
  assert.ok(web.firewall.runs.every((r) => r.dataOut.length > 0));
  // Counts by IP protocol, written by the program, read by the host: UDP once, TCP 1 + 3 + 1.
  assert.deepEqual(web.firewall.protoCount, { '11000000': '0100000000000000', '06000000': '0500000000000000' });
  assert.deepEqual(web.firewall.blocklist, { '0a010203': '01' });
  assert.equal(web.bpf2bpf.runs.length, 8);
  // Ring buffer records written by the programs, read by the host (one through the async iterator).
  assert.equal(web.ringbuf.viaAsyncIterator, JSON.stringify({ pid: 4240, source: 1, ts: '123456789', comm: 'nginx' }));
  assert.deepEqual(web.ringbuf.events, [{ pid: 4240, source: 2, ts: '123456789', comm: 'nginx' }]);
  assert.equal(web.ringbuf.lost, 0);
  // r0 = 0, then LARGE_STEPS times r0 += i + 1; r0 ^= (i * 7919) & 0xffff, in 64 bits (retval is the low 32).
  let r0 = 0n;
  for (let i = 0; i < LARGE_STEPS; i++) r0 = (r0 + BigInt(i + 1)) ^ BigInt((i * 7919) & 0xffff);
  assert.equal(web.large.retval, Number(r0 & 0xffffffffn));
  assert.equal(web.large.insns, 2 + 2 * LARGE_STEPS);
  assert.equal(web.large.program.engine, 'jit');
  const rej = web.rejection;
  assert.ok(!('unexpected' in rej), 'unexpected' in rej ? rej.unexpected : '');
  assert.equal(rej.name, 'VerifierError');
  assert.equal(rej.isVerifierError, true);
  assert.equal(rej.errno, 'EACCES');
  assert.equal(rej.insnIndex, 1);
  assert.match(rej.kernelMessage, /invalid access to packet/);
  assert.equal(rej.logHasMessage, true);
});
