import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { openSync as namedOpenSync } from 'node:fs';
import net from 'node:net';
import cp from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { attachPolicy } from '../src/hooks/lsm.js';
import { ROOT } from './paths.js';

const OBJ = resolve(ROOT, 'examples/policy.o');
const key64 = (s: string): Uint8Array => {
  const k = new Uint8Array(64);
  k.set(new TextEncoder().encode(s));
  return k;
};
const s32 = (v: number): Uint8Array => new Uint8Array(Int32Array.of(v).buffer);
const isCode = (code: string) => (e: unknown): boolean => (e as NodeJS.ErrnoException).code === code;

test('file_open policy: fs.openSync, fs.open, fs.promises.open and named imports fail with the errno', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-lsm-'));
  const rt = new Runtime();
  try {
    const secret = join(dir, 'secret.txt');
    const plain = join(dir, 'plain.txt');
    writeFileSync(secret, 's');
    writeFileSync(plain, 'p');
    const coll = await loadCollectionFile(OBJ, rt, { programs: ['check_open'] });
    coll.map('denied_files').set(key64(secret), s32(13));
    const link = attachPolicy(coll.program('check_open'));
    assert.throws(() => fs.openSync(secret, 'r'), (e: unknown) => isCode('EACCES')(e) && (e as NodeJS.ErrnoException).errno === -13 && (e as NodeJS.ErrnoException).syscall === 'open');
    assert.throws(() => namedOpenSync(secret, 'r'), isCode('EACCES'));
    await assert.rejects(fs.promises.open(secret), isCode('EACCES'));
    const [err] = (await new Promise((r) => fs.open(secret, 'r', (e) => r([e])))) as [NodeJS.ErrnoException | null];
    assert.equal(err?.code, 'EACCES');
    fs.closeSync(fs.openSync(plain, 'r'));
    link.detach();
    fs.closeSync(fs.openSync(secret, 'r'));
    fs.closeSync(namedOpenSync(secret, 'r'));
  } finally {
    rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('socket_connect policy: a refused port fails with EPERM as a socket error, others connect', async () => {
  const rt = new Runtime();
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const coll = await loadCollectionFile(OBJ, rt, { programs: ['check_connect'] });
    const k = new Uint8Array(Uint32Array.of(port).buffer);
    coll.map('denied_ports').set(k, s32(1));
    const link = attachPolicy(coll.program('check_connect'));
    const s = net.connect(port, '127.0.0.1');
    const [e] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'EPERM');
    assert.equal(e.syscall, 'connect');
    coll.map('denied_ports').delete(k);
    const ok = net.connect({ port, host: '127.0.0.1' });
    await once(ok, 'connect');
    ok.destroy();
    link.detach();
  } finally {
    server.close();
    rt.close();
  }
});

test('task_spawn policy: spawning a refused program throws with the errno', async () => {
  const rt = new Runtime();
  try {
    const coll = await loadCollectionFile(OBJ, rt, { programs: ['check_spawn'] });
    coll.map('denied_programs').set(key64('true'), s32(1));
    const link = attachPolicy(coll.program('check_spawn'));
    assert.throws(() => cp.spawnSync('true'), isCode('EPERM'));
    assert.throws(() => cp.execSync('true --flag'), isCode('EPERM'));
    assert.throws(() => cp.spawn('true', []), isCode('EPERM'));
    assert.equal(cp.spawnSync(process.execPath, ['-e', '0']).status, 0, 'other programs run');
    link.detach();
    assert.equal(cp.spawnSync('true').status, 0);
  } finally {
    rt.close();
  }
});
