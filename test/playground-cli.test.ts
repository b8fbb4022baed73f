/**
 * `tsbpf playground`: its static server hands out the files of the site
 * folder and nothing else, and the command serves the built site (or says
 * what to run when the site is not built).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { SITE_DIR, serveStatic } from '../src/cli/commands/playground.js';

test('the static server: files of its folder only, GET and HEAD only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-site-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><p>hi</p>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(dir, 'assets', 'x.o'), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46));
  writeFileSync(join(dir, 'secret.txt'), 'no');
  writeFileSync(join(tmpdir(), 'tsbpf-outside.html'), 'outside');
  const { server, url } = await serveStatic(dir, 0);
  try {
    const get = async (path: string, init?: RequestInit) => {
      const r = await fetch(url + path.replace(/^\//, ''), init);
      return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
    };
    assert.deepEqual(await get('/'), { status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><p>hi</p>' });
    assert.equal((await get('/assets/a.js')).type, 'text/javascript; charset=utf-8');
    assert.equal((await get('/assets/x.o')).type, 'application/octet-stream');
    assert.equal((await get('/secret.txt')).status, 404, 'only the site\'s file types');
    assert.equal((await get('/assets/')).status, 404, 'no directory listing');
    assert.equal((await get('/nothing.js')).status, 404);
    // Paths that leave the folder: fetch normalizes `..`, so send them raw and encoded.
    const raw = (path: string) => new Promise<number>((ok, fail) => request(url, { path }, (r) => { r.resume(); ok(r.statusCode ?? 0); }).on('error', fail).end());
    assert.equal(await raw('/../tsbpf-outside.html'), 404);
    assert.equal(await raw('/assets/../../tsbpf-outside.html'), 404);
    assert.equal(await raw('/assets/../index.html'), 200, 'inside stays inside');
    assert.equal((await get('/..%2ftsbpf-outside.html')).status, 404);
    assert.equal((await get('/%E0%A4%A')).status, 400);
    assert.equal((await get('/', { method: 'POST', body: 'x' })).status, 405);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '24');
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'tsbpf-outside.html'), { force: true });
  }
});

test('tsbpf playground serves the built site', async (t) => {
  if (!existsSync(join(SITE_DIR, 'index.html'))) return t.skip(`the playground is not built (${SITE_DIR}): npm run build:playground`);
  const child = spawn(process.execPath, [join(ROOT, 'bin/tsbpf'), 'playground', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`exited ${code}: ${out}`)));
    });
    const page = await (await fetch(url)).text();
    assert.match(page, /<title>tsbpf playground/);
    const script = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(page)?.[1];
    assert.ok(script, 'the page names its script');
    assert.equal((await fetch(url + script)).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
});

test('tsbpf playground refuses a bad port with the usage', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'bin/tsbpf'), 'playground', '--port', 'http'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  assert.equal(code, 2);
  assert.match(err, /--port http is not a port number/);
});
