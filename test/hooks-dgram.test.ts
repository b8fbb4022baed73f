import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { dgramXdp } from '../src/hooks/packet/dgram.js';
import { socketFilter } from '../src/hooks/packet/socket-filter.js';
import { ROOT } from './paths.js';

const u64 = (b: unknown): bigint => new DataView((b as Uint8Array).buffer, (b as Uint8Array).byteOffset).getBigUint64(0, true);

test('xdp on a live UDP socket: drop, pass, and answer with XDP_TX (loopback)', async () => {
  const rt = new Runtime();
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/udp_guard.o'), rt);
  const server = dgram.createSocket('udp4');
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  const got: string[] = [];
  server.on('message', (m) => got.push(m.toString()));
  const hook = dgramXdp(server);
  const link = coll.program('udp_guard').attach(hook);
  try {
    const replies: string[] = [];
    client.on('message', (m, r) => {
      assert.equal(r.port, port, 'the answer comes from the server socket');
      replies.push(m.toString());
    });
    const send = (s: string): Promise<void> => new Promise((r, j) => client.send(s, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    await send('hello 1');
    await send('drop this');
    await send('ping 42');
    await send('hello 2');
    // Wait for the datagrams and the answer (loopback delivers in order; no timing assumption beyond arrival).
    while (got.length < 2 || replies.length < 1) await once(got.length < 2 ? server : client, 'message');
    assert.deepEqual(got, ['hello 1', 'hello 2'], 'the dropped datagram and the answered ping never reach the application');
    assert.deepEqual(replies, ['pong 42']);
    assert.deepEqual(hook.counts, [0, 1, 2, 1, 0]);
    assert.equal(u64(coll.map('seen').get(1)), 1n);
    assert.equal(u64(coll.map('seen').get(3)), 1n);
    // Detached: everything reaches the application again.
    link.detach();
    await send('drop me not');
    while (got.length < 3) await once(server, 'message');
    assert.equal(got[2], 'drop me not');
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
  }
});

test('socket filter on a live UDP socket: 0 drops, n truncates (SO_ATTACH_BPF semantics)', async () => {
  const rt = new Runtime();
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/udp_filter.o'), rt);
  const server = dgram.createSocket('udp4');
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  const got: string[] = [];
  server.on('message', (m, r) => {
    assert.equal(r.size, m.length);
    got.push(m.toString());
  });
  const hook = socketFilter(server);
  const link = coll.program('udp_filter').attach(hook);
  try {
    const send = (s: string): Promise<void> => new Promise((r, j) => client.send(s, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    await send('short');
    await send('# a comment, dropped');
    await send('a long datagram, cut to 8 bytes');
    await send('last');
    while (got.length < 3) await once(server, 'message');
    assert.deepEqual(got, ['short', 'a long d', 'last']);
    assert.equal(hook.dropped, 1);
    assert.equal(hook.truncated, 1);
    link.detach();
    await send('# whole again');
    while (got.length < 4) await once(server, 'message');
    assert.equal(got[3], '# whole again');
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
  }
});
