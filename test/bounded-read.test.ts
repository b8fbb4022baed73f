/**
 * readBounded on files whose reads return less than asked: sysfs gives one
 * page per read(2) (/sys/kernel/btf/vmlinux: ~1,300 reads), a pipe what the
 * writer has written so far. The bytes must come out whole and in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBounded, readBoundedAsync, FileError } from '../src/bounded-read.js';
import { which } from './support/tools.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

test('a sysfs file read a page at a time comes out whole', { skip: !existsSync(VMLINUX) && `no ${VMLINUX}` }, async () => {
  const want = readFileSync(VMLINUX);
  assert.ok(want.length > 4096);
  assert.ok(Buffer.from(readBounded(VMLINUX, { kind: 'btf' })).equals(want));
  assert.ok(Buffer.from(await readBoundedAsync(VMLINUX, { kind: 'btf' })).equals(want));
  assert.throws(() => readBounded(VMLINUX, { kind: 'btf', limit: 4096 }), (e: unknown) => e instanceof FileError && e.errno === 'E2BIG');
});

test('a pipe written in small pieces comes out whole, and its limit holds', { skip: !which('mkfifo') && 'no mkfifo' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bounded-'));
  try {
    const fifo = join(dir, 'f');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // 300 writes of 6 bytes each: reads come back with whatever has been written so far
    const write = (): Promise<unknown> => {
      const w = spawn('sh', ['-c', `i=100; while [ $i -lt 400 ]; do printf 'abc%03d' $i; i=$((i+1)); done > ${fifo}`], { stdio: 'ignore' });
      return new Promise((r) => w.on('close', r));
    };
    const done = write();
    const got = await readBoundedAsync(fifo, { kind: 'test' });
    await done;
    let want = '';
    for (let i = 100; i < 400; i++) want += `abc${i}`;
    assert.equal(Buffer.from(got).toString(), want);
    // the writer ends with EPIPE once the reader has given up
    const done2 = write();
    await assert.rejects(readBoundedAsync(fifo, { kind: 'test', limit: 1000 }), (e: unknown) => e instanceof FileError && e.errno === 'E2BIG');
    await done2;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
