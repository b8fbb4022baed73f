import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import cp from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Runtime } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import { builtinTracepoints, tracepoint } from '../src/hooks/tracepoint.js';

const u64 = (b: unknown): bigint => new DataView((b as Uint8Array).buffer, (b as Uint8Array).byteOffset).getBigUint64(0, true);

/** slot[k] += 1, and slot[k + 16] = the u32 at ctx+off (a field of the event's struct) */
const counter = (mapId: number, slot: number, off: number): string => `r6 = r1
*(u32 *)(r10 - 4) = ${slot}
r2 = r10
r2 += -4
r1 = map[fd:${mapId}] ll
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r1 += 1
*(u64 *)(r0 + 0) = r1
r7 = *(u32 *)(r6 + ${off})
*(u32 *)(r10 - 4) = ${slot + 16}
r2 = r10
r2 += -4
r1 = map[fd:${mapId}] ll
call 1
if r0 == 0 goto out
*(u64 *)(r0 + 0) = r7
out:
r0 = 0
exit
`;

test('every built-in diagnostics_channel tracepoint fires with its documented fields', async () => {
  const rt = new Runtime();
  const map = rt.createMap({ name: 'events', type: 'array', keySize: 4, valueSize: 8, maxEntries: 32, flags: 0, pinning: 'none' });
  // event -> a u32 field to capture (offsets from include/tsbpf/tracepoints.h)
  const fields: Record<string, number> = {
    http_server_request_start: 24, // method
    http_server_response_finish: 28, // status (u16, read as u32 with port: low half)
    http_client_request_start: 24,
    http_client_response_finish: 28,
    undici_request_create: 24,
    undici_request_headers: 28,
    net_client_socket: 24,
    net_server_socket: 24, // family
    child_process: 16, // child pid
    worker_threads: 16, // thread id
  };
  assert.deepEqual(Object.keys(fields).sort(), builtinTracepoints().sort());
  const names = Object.keys(fields);
  const links = [];
  for (const [i, name] of names.entries()) {
    const p = await rt.loadProgram({ name, type: 'tracepoint', insns: assemble(counter(map.id, i, fields[name]!)) });
    links.push(p.attach(tracepoint('node', name)));
  }
  const server = http.createServer((_q, r) => {
    r.statusCode = 201;
    r.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    await new Promise<void>((res, rej) => http.get({ host: '127.0.0.1', port, path: '/p', agent: false }, (r) => r.resume().on('end', res)).on('error', rej));
    await (await fetch(`http://127.0.0.1:${port}/f`, { method: 'POST', body: 'b' })).text();
    const child = cp.spawn(process.execPath, ['-e', '0']);
    const childPid = child.pid!;
    await once(child, 'exit');
    const w = new Worker('0', { eval: true });
    const threadId = w.threadId;
    await once(w, 'exit');
    const at = (name: string, k = 0): bigint => u64(map.get(names.indexOf(name) + k));
    for (const n of names) assert.ok(at(n) >= 1n, `${n} fired`);
    assert.equal(at('http_server_request_start', 16), 3n, 'the last request the server saw: POST (from fetch)');
    assert.equal(at('http_server_response_finish', 16) & 0xffffn, 201n);
    assert.equal(at('http_client_request_start', 16), 1n, 'http.get: GET');
    assert.equal(at('undici_request_create', 16), 3n, 'fetch: POST');
    assert.equal(at('undici_request_headers', 16) & 0xffffn, 201n);
    assert.equal(at('net_server_socket', 16) & 0xffffn, 2n, 'AF_INET');
    assert.equal(at('child_process', 16), BigInt(childPid));
    assert.equal(at('worker_threads', 16), BigInt(threadId));
  } finally {
    for (const l of links) l.detach();
    server.close();
    rt.close();
  }
});
