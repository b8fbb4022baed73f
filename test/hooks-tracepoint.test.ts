import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { assemble } from '../src/isa/asm.js';
import { appTracepoint, attachTracepoint, tracepoint, addrBytes, pathOf } from '../src/hooks/tracepoint.js';
import { attach } from '../src/hooks/link.js';
import { TsbpfError } from '../src/errors.js';
import { ROOT } from './paths.js';

const u64 = (b: unknown): bigint => new DataView((b as Uint8Array).buffer, (b as Uint8Array).byteOffset).getBigUint64(0, true);

/** A tracepoint program adding the event's first data word (ctx+16) to slot `slot` of array map `mapId`, after copying slot 0 into slot `copyTo` when given. */
function adder(mapId: number, slot: number, copyTo?: number, off = 16): string {
  const copy =
    copyTo === undefined
      ? ''
      : `*(u32 *)(r10 - 8) = 0
r2 = r10
r2 += -8
r1 = map[fd:${mapId}] ll
call 1
if r0 == 0 goto out
r8 = *(u64 *)(r0 + 0)
*(u32 *)(r10 - 8) = ${copyTo}
r2 = r10
r2 += -8
r1 = map[fd:${mapId}] ll
call 1
if r0 == 0 goto out
*(u64 *)(r0 + 0) = r8
`;
  return `r6 = r1
r7 = *(u64 *)(r6 + ${off})
${copy}*(u32 *)(r10 - 4) = ${slot}
r2 = r10
r2 += -4
r1 = map[fd:${mapId}] ll
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r1 += r7
*(u64 *)(r0 + 0) = r1
out:
r0 = 0
exit
`;
}

async function setup(): Promise<{ rt: Runtime; map: ReturnType<Runtime['createMap']> }> {
  const rt = new Runtime();
  const map = rt.createMap({ name: 'counts', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, pinning: 'none' });
  return { rt, map };
}

test('app tracepoint: programs run in attach order, detach stops a program, maps outlive links', async () => {
  const { rt, map } = await setup();
  const a = await rt.loadProgram({ name: 'a', type: 'tracepoint', insns: assemble(adder(map.id, 0)) });
  const b = await rt.loadProgram({ name: 'b', type: 'tracepoint', insns: assemble(adder(map.id, 2, 1)) });
  const tp = appTracepoint('order_test');
  assert.equal(tp.enabled, false);
  tp.fire([5]); // nobody listens: nothing runs
  const la = a.attach(tp.tracepoint);
  const lb = attach(b, tp.tracepoint);
  assert.equal(tp.enabled, true);
  tp.fire([5]);
  tp.fire([7n]);
  // b copies slot 0 into slot 1 before adding: it saw a's update, so a ran first.
  assert.equal(u64(map.get(0)), 12n);
  assert.equal(u64(map.get(1)), 12n);
  assert.equal(u64(map.get(2)), 12n);
  la.detach();
  la.detach();
  tp.fire([1]);
  assert.equal(u64(map.get(0)), 12n);
  assert.equal(u64(map.get(2)), 13n);
  assert.equal(la.runs, 2);
  assert.equal(lb.runs, 3);
  lb.detach();
  assert.equal(tp.enabled, false);
  tp.fire([100]);
  assert.equal(u64(map.get(2)), 13n);
  rt.close();
});

test('app tracepoint payloads: bytes past a shorter event read as zero', async () => {
  const { rt, map } = await setup();
  const second = await rt.loadProgram({ name: 'w2', type: 'tracepoint', insns: assemble(adder(map.id, 0, undefined, 24)) });
  const tp = appTracepoint('zero_test');
  const l = second.attach(tp.tracepoint);
  tp.fire([1n, 10n]);
  tp.fire([1n]);
  tp.fire(new Uint8Array(0));
  assert.equal(u64(map.get(0)), 10n, 'the second word of the later, shorter events is 0');
  l.detach();
  rt.close();
});

test('replacing a program between events loses no event and double-counts none', async () => {
  const { rt, map } = await setup();
  const a = await rt.loadProgram({ name: 'a', type: 'tracepoint', insns: assemble(adder(map.id, 0)) });
  const b = await rt.loadProgram({ name: 'b', type: 'tracepoint', insns: assemble(adder(map.id, 0)) });
  const tp = appTracepoint('replace_test');
  let link = a.attach(tp.tracepoint);
  const N = 200;
  for (let i = 0; i < N; i++) {
    if (i === 77) {
      const next = b.attach(tp.tracepoint);
      link.detach();
      link = next;
    }
    tp.fire([1]);
  }
  assert.equal(u64(map.get(0)), BigInt(N));
  link.detach();
  rt.close();
});

test('a link detached while its event is delivered still completes that event (copy-on-write lists)', async () => {
  const { rt, map } = await setup();
  const a = await rt.loadProgram({ name: 'a', type: 'tracepoint', insns: assemble(adder(map.id, 0)) });
  const b = await rt.loadProgram({ name: 'b', type: 'tracepoint', insns: assemble(adder(map.id, 1)) });
  const tp = tracepoint('app', 'cow_test');
  const la = a.attach(tp);
  const lb = b.attach(tp);
  // Detach b from inside the event (the context fill is host code that runs mid-delivery).
  tp.emit((s, addr) => {
    s.writeU64(addr + 16, 3n);
    lb.detach();
  });
  assert.equal(u64(map.get(0)), 3n);
  assert.equal(u64(map.get(1)), 3n, 'b ran on the event it was detached during');
  tp.emit((s, addr) => s.writeU64(addr + 16, 3n));
  assert.equal(u64(map.get(1)), 3n, 'b no longer runs');
  la.detach();
  rt.close();
});

test('attach refuses the wrong program type and unknown tracepoints', async () => {
  const rt = new Runtime();
  const p = await rt.loadProgram({ name: 'x', type: 'xdp', insns: assemble('r0 = 2\nexit\n') });
  assert.throws(() => p.attach(tracepoint('app', 'typed')), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.throws(() => tracepoint('node', 'no_such_event'), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
  assert.throws(() => tracepoint('kernel', 'sched_switch'), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOENT');
  rt.close();
});

test('diagnostics_channel HTTP tracepoints feed the example program (real requests)', async () => {
  const rt = new Runtime();
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/http_latency.o'), rt);
  const links = [...coll.programs.values()].map((p) => attachTracepoint(p));
  assert.deepEqual(links.map((l) => l.hook.name).sort(), ['tracepoint/node/http_server_request_start', 'tracepoint/node/http_server_response_finish']);
  const server = http.createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const get = (path: string): Promise<void> =>
    new Promise((res, rej) => http.get({ host: '127.0.0.1', port, path, agent: false }, (r) => r.resume().on('end', res)).on('error', rej));
  try {
    await get('/a?x=1');
    await get('/a');
    await get('/b');
    const key = (s: string): Uint8Array => {
      const k = new Uint8Array(64);
      k.set(new TextEncoder().encode(s));
      return k;
    };
    assert.equal(u64(coll.map('requests').get(key('/a'))), 2n);
    assert.equal(u64(coll.map('requests').get(key('/b'))), 1n);
    let hist = 0n;
    for (let i = 0; i < 66; i++) hist += u64(coll.map('latency_us').get(i));
    assert.equal(hist, 3n);
    for (const l of links) l.detach();
    await get('/a');
    // Maps outlive links: the counts stay, and stop moving.
    assert.equal(u64(coll.map('requests').get(key('/a'))), 2n);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rt.close();
  }
});

test('context helpers: paths and addresses as the header documents them', () => {
  assert.equal(pathOf('/api/users?page=2'), '/api/users');
  assert.equal(pathOf('http://h:8080/x/y#f'), '/x/y');
  assert.equal(pathOf('http://h:8080'), '/');
  assert.deepEqual([...addrBytes('127.0.0.1')!.subarray(0, 4)], [127, 0, 0, 1]);
  assert.deepEqual([...addrBytes('::ffff:10.1.2.3')!.subarray(0, 4)], [10, 1, 2, 3]);
  assert.deepEqual([...addrBytes('::1')!], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...addrBytes('fe80::1:2')!.subarray(0, 2)], [0xfe, 0x80]);
  assert.equal(addrBytes('localhost'), undefined);
});
