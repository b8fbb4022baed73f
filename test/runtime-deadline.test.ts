/**
 * Run deadlines (issue 11, finding 6): a verified program with nested
 * bpf_loop calls (Linux accepts it; 2^46 callback runs) is stopped by an
 * instruction or time deadline with RunDeadlineExceeded (ETIME), under both
 * engines, from a test run and from hooks; without a deadline nothing
 * changes. No timed assertions: a time deadline only has to stop the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { RingBufReader, type RingBuf } from '../src/maps/index.js';
import { Runtime } from '../src/runtime/index.js';
import { RunDeadlineExceeded } from '../src/vm/fault.js';
import { TsbpfError } from '../src/errors.js';
import { uprobe } from '../src/hooks/index.js';
import { fileOpenHook } from '../src/hooks/lsm.js';
import { loadObjectFile } from '../src/object/file.js';
import { ROOT } from './paths.js';
import { join } from 'node:path';
import { openSync, closeSync } from 'node:fs';
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { dgramXdp } from '../src/hooks/packet/dgram.js';
import { udpPair } from './support/udp.js';

const NESTED = join(ROOT, 'test/deadline-progs/nested_loop.o');

/** A loop of n iterations in one function (a back edge, no helper). */
function counted(n: number): Insn[] {
  return assemble(`
    r0 = 0
    r1 = ${n}
  top:
    r0 += 1
    r1 -= 1
    if r1 != 0 goto top
    exit`);
}

const isDeadline = (limit: 'instructions' | 'time') => (e: unknown): boolean =>
  e instanceof RunDeadlineExceeded && e instanceof TsbpfError && e.errno === 'ETIME' && e.limit === limit;

for (const engine of ['jit', 'interpreter'] as const) {
  test(`${engine}: nested bpf_loop is stopped by an instruction deadline and by a time deadline`, async () => {
    const rt = new Runtime({ engine });
    const p = (await rt.load(await loadObjectFile(NESTED), { programs: ['nested_xdp'] })).program('nested_xdp');
    assert.ok(p.executable.image.verified, 'the verifier accepted it');
    assert.throws(() => p.run({ data: new Uint8Array(64), deadline: { instructions: 1_000_000 } }), isDeadline('instructions'));
    assert.throws(() => p.run({ data: new Uint8Array(64), deadline: { ms: 20 } }), isDeadline('time'));
    // The program still runs normally afterwards (no state left behind), here on a bounded loop.
    const q = await rt.loadProgram({ name: 'counted', type: 'xdp', insns: counted(1000) });
    assert.equal(q.run({ data: new Uint8Array(64), deadline: { instructions: 100_000 } }).retval, 1000);
    assert.equal(q.run({ data: new Uint8Array(64) }).retval, 1000);
    assert.throws(() => q.run({ data: new Uint8Array(64), deadline: { instructions: 500 } }), isDeadline('instructions'));
    assert.throws(() => q.run({ data: new Uint8Array(64), deadline: { instructions: 0 } }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
    rt.close();
  });

  test(`${engine}: the runtime's runDeadline stops a probe's run; the probed call goes on and the link counts the error`, async () => {
    const rt = new Runtime({ engine, runDeadline: { instructions: 200_000 } });
    const p = (await rt.load(await loadObjectFile(NESTED), { programs: ['nested_probe'] })).program('nested_probe');
    const target = { work(x: number): number { return x * 2; } };
    const link = p.attach(uprobe(target, 'work'));
    assert.equal(target.work(21), 42, 'the application call completes');
    assert.equal(link.errors, 1);
    assert.ok(isDeadline('instructions')(link.lastError), String(link.lastError));
    link.detach();
    // A bounded program under the same deadline runs to its end.
    const q = await rt.loadProgram({ name: 'counted', type: 'xdp', insns: counted(1000) });
    assert.equal(q.run({ data: new Uint8Array(64) }).retval, 1000);
    rt.close();
  });
}

test('a policy hook fails closed when a program runs past its deadline (EPERM), or open when told to', async () => {
  const rt = new Runtime({ runDeadline: { ms: 5 } });
  const p = (await rt.load(await loadObjectFile(NESTED), { programs: ['nested_policy'] })).program('nested_policy');
  const hook = fileOpenHook();
  const link = p.attach(hook);
  try {
    assert.throws(() => openSync(NESTED, 'r'), (e: NodeJS.ErrnoException) => e.code === 'EPERM');
    assert.equal(link.errors, 1);
    assert.ok(isDeadline('time')(link.lastError));
    hook.onError = 'allow';
    closeSync(openSync(NESTED, 'r'));
    assert.equal(link.errors, 2);
  } finally {
    hook.onError = 'deny';
    link.detach();
    rt.close();
  }
});

test('XDP on a UDP socket counts a run past its deadline as XDP_ABORTED: the datagram is dropped', async () => {
  const rt = new Runtime({ runDeadline: { instructions: 100_000 } });
  const p = (await rt.load(await loadObjectFile(NESTED), { programs: ['nested_xdp'] })).program('nested_xdp');
  const { server, client, port, send } = await udpPair({ bindClient: true });
  const got: string[] = [];
  server.on('message', (m) => got.push(m.toString()));
  const hook = dgramXdp(server);
  const link = p.attach(hook);
  try {
    await send('stopped');
    // Wait until the hook has seen it (no timing assumption: poll the counter between turns of the event loop).
    while (hook.counts[0] === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(hook.counts, [1, 0, 0, 0, 0], 'XDP_ABORTED');
    assert.equal(link.errors, 1);
    assert.ok(isDeadline('instructions')(link.lastError));
    link.detach();
    await send('after');
    while (got.length < 1) await once(server, 'message');
    assert.deepEqual(got, ['after'], 'the aborted datagram never reached the application');
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
  }
});

for (const engine of ['jit', 'interpreter'] as const) {
  test(`${engine}: a run stopped with a ring buffer record reserved gives the record back (the reader is not stalled)`, async () => {
    const rt = new Runtime({ engine });
    const rb = rt.createMap({ name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, pinning: 'none' });
    const withRef = (insns: Insn[]): Insn[] => {
      for (const i of insns) if (i.code === OP_LDDW) (i.src = BPF_PSEUDO_MAP_FD), (i.imm = rb.id);
      return insns;
    };
    // reserve 8 bytes, loop 2000 times, then submit: a 1,000-instruction deadline stops it in the loop.
    const stuck = await rt.loadProgram({ type: 'xdp', insns: withRef(assemble(`
      r1 = 0 ll
      r2 = 8
      r3 = 0
      call 131
      if r0 == 0 goto out
      r6 = r0
      r7 = 2000
    top:
      r7 -= 1
      if r7 != 0 goto top
      r1 = 0x11
      *(u64 *)(r6 + 0) = r1
      r1 = r6
      r2 = 0
      call 132
    out:
      r0 = 2
      exit`)) });
    assert.throws(() => stuck.run({ data: new Uint8Array(64), deadline: { instructions: 1000 } }), isDeadline('instructions'));
    const out = await rt.loadProgram({ type: 'xdp', insns: withRef(assemble(`
      r1 = 0x22
      *(u64 *)(r10 - 8) = r1
      r1 = 0 ll
      r2 = r10
      r2 += -8
      r3 = 8
      r4 = 0
      call 130
      r0 = 2
      exit`)) });
    assert.equal(out.run({ data: new Uint8Array(64) }).retval, 2);
    const reader = new RingBufReader(rb as RingBuf);
    const got: Uint8Array[] = [];
    reader.consume((b) => got.push(b.slice()));
    assert.deepEqual(got, [Uint8Array.of(0x22, 0, 0, 0, 0, 0, 0, 0)], 'the stopped run\'s record was discarded, the next one is read');
    reader.close();
    rt.close();
  });
}

test("a worker's runs are bounded by the sharing runtime's runDeadline, or by its own", async () => {
  const rt = new Runtime({ shared: true, numCpus: 2, runDeadline: { instructions: 1_000_000 } });
  await rt.load(await loadObjectFile(NESTED), { programs: ['nested_xdp'] });
  const desc = rt.share();
  assert.deepEqual(desc.runDeadline, { instructions: 1_000_000 });
  // On a worker thread: the description crossed the thread boundary with its deadline.
  const w = new Worker(new URL('./workers/deadline-worker.js', import.meta.url), { workerData: { desc, cpu: 1 } });
  // Were the deadline lost, the run would go on for days: stop the worker, and the assertion fails.
  const timer = setTimeout(() => void w.terminate(), 30_000);
  const exited = once(w, 'exit');
  const outcome = await Promise.race([
    once(w, 'message').then(([m]) => m as unknown),
    exited.then(() => 'the worker ended without an answer (terminated: its run had no deadline)'),
  ]);
  clearTimeout(timer);
  await exited;
  assert.deepEqual(outcome, { errno: 'ETIME', limit: 'instructions' });
  // Attached here, with a deadline of its own instead of the description's.
  const own = await Runtime.attachShared(desc, { cpu: 1, engine: 'interpreter', runDeadline: { ms: 20 } });
  assert.throws(() => own.program('nested_xdp').run({ data: new Uint8Array(64) }), isDeadline('time'));
  own.close();
  await assert.rejects(Runtime.attachShared(desc, { cpu: 1, runDeadline: { instructions: -1 } }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  rt.close();
});
