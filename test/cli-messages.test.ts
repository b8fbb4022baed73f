/**
 * Messages that help (issue 12, part 3) and progress (part 6): a long
 * rejection path is cut to its last branches (the whole of it stays in the
 * error), the packet-access refusal in Linux 6.18's register format,
 * tracepoint('category/name'), attach() without a hook, a helper that needs
 * an opt-in, and progress only on a terminal and never under -j.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { VerifierError } from '../src/verifier/error.js';
import { packetAccessMessage } from '../src/verifier/log.js';
import { tracepoint } from '../src/hooks/tracepoint.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { TsbpfError } from '../src/errors.js';
import { progress } from '../src/cli/progress.js';
import { BIN, FIXTURES, ROOT } from './paths.js';

test('a rejection after a long path explains the last branches; the error keeps them all', () => {
  const path = Array.from({ length: 90_000 }, (_, i) => `${i % 7}: if r2 > r1 goto pc+1 -> taken, to insn ${i % 7 + 2}`);
  const e = new VerifierError('E2BIG', { kernelMessage: 'BPF program is too large. Processed 1000001 insn', rule: 'too many instructions', insnIndex: 4, registers: [], path, log: 'x\n'.repeat(90_000) });
  const short = e.explain();
  assert.ok(short.split('\n').length < 20, `${short.split('\n').length} lines`);
  assert.match(short, /path \(the last 8 of 90000 branch decisions\):\n {4}\.\.\. 89992 earlier\n/);
  assert.ok(short.includes(path.at(-1)!));
  // 'error:', 'path:', the 90,000 branches, 'kernel:'
  assert.equal(e.explain({ maxPath: Infinity }).split('\n').length, 90_000 + 3);
  assert.equal(e.path.length, 90_000);
});

test('packet access refusal in Linux 6.18\'s format: the access offset twice, id and range', () => {
  // bpftool -d on test/verifier-corpus/c/bad_bounds.c under 6.18: `invalid access to packet, off=36 size=2, R1(id=0,off=36,r=34)`
  assert.equal(packetAccessMessage(1, 36, 2, { id: 0, range: 34 }), 'invalid access to packet, off=36 size=2, R1(id=0,off=36,r=34)\nR1 offset is outside of the packet');
  assert.equal(packetAccessMessage(3, 23, 4, { id: 2, range: 14 }), 'invalid access to packet, off=23 size=4, R3(id=2,off=23,r=14)\nR3 offset is outside of the packet');
});

test('tracepoint() takes the section\'s category/name form too', () => {
  assert.equal(tracepoint('node/child_process'), tracepoint('node', 'child_process'));
  assert.throws(() => tracepoint('child_process'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /category\/event/.test(e.message));
  assert.throws(() => tracepoint('node/nope'), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
});

test('attach() without a hook is a typed error that says what to pass', async () => {
  const rt = new Runtime();
  try {
    const coll = await loadCollectionFile(resolve(FIXTURES, 'xdp_firewall.o'), rt);
    const p = coll.program('xdp_pass') as unknown as { attach(h?: unknown): unknown };
    assert.throws(() => p.attach(), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /attach\(\) takes the hook.*tracepoint\('node\//.test(e.message));
    assert.throws(() => p.attach({}), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  } finally {
    rt.close();
  }
});

test('a helper that needs an opt-in says which call enables it', async () => {
  const rt = new Runtime();
  try {
    await assert.rejects(loadCollectionFile(resolve(ROOT, 'examples/func_probe.o'), rt), (e: unknown) => {
      assert.ok(e instanceof TsbpfError);
      assert.match(e.message, /bpf_get_func_ip#173 is not enabled in this runtime: call enableProbeHelpers\(runtime\) from 'tsbpf\/hooks'/);
      assert.doesNotMatch(e.message, /not implemented/);
      return true;
    });
  } finally {
    rt.close();
  }
});

test('progress: drawn on a terminal, erased at the end; nothing under -j or without a TTY', () => {
  const writes: string[] = [];
  const tty = { isTTY: true, columns: 60, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  const bar = progress('conformance', 4, { stream: tty });
  bar.update(0, 'first');
  bar.update(4, 'last');
  bar.end();
  assert.equal(writes[0], '\r\x1b[Kconformance [                              ] 0/4 first');
  assert.equal(writes[1], '\r\x1b[Kconformance [##############################] 4/4 last');
  assert.equal(writes.at(-1), '\r\x1b[K');
  // with a rate to go by (a second or more in), the line says how long the rest should take
  const clock = Date.now;
  try {
    const t0 = clock();
    Date.now = () => t0;
    writes.length = 0;
    const slow = progress('fuzz', 10, { stream: tty });
    Date.now = () => t0 + 4000;
    slow.update(2);
    assert.match(writes[0]!, / 2\/10 about 16 s left$/);
  } finally {
    Date.now = clock;
  }
  for (const opts of [{ stream: tty, json: true }, { stream: { ...tty, isTTY: false } as unknown as NodeJS.WriteStream }]) {
    writes.length = 0;
    const quiet = progress('x', 2, opts);
    quiet.update(1);
    quiet.end();
    assert.deepEqual(writes, []);
  }
  // a real command with stderr a pipe: no progress bytes
  const r = spawnSync(process.execPath, [BIN, 'prog', 'load', resolve(FIXTURES, 'xdp_firewall.o')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
