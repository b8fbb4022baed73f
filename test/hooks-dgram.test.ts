import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Runtime } from '../src/runtime/runtime.js';
import { loadCollectionFile } from '../src/runtime/node.js';
import { dgramXdp } from '../src/hooks/packet/dgram.js';
import { socketFilter } from '../src/hooks/packet/socket-filter.js';
import { assemble } from '../src/isa/asm.js';
import { ROOT } from './paths.js';
import { udpPair } from './support/udp.js';

const u64 = (b: unknown): bigint => new DataView((b as Uint8Array).buffer, (b as Uint8Array).byteOffset).getBigUint64(0, true);

test('xdp on a live UDP socket: drop, pass, and answer with XDP_TX (loopback)', async () => {
  const rt = new Runtime();
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/udp_guard.o'), rt);
  const { server, client, port, send } = await udpPair({ bindClient: true });
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

test('socket filter on a live UDP socket: 0 drops, n truncates (examples/udp_filter.o)', async () => {
  const rt = new Runtime();
  const coll = await loadCollectionFile(resolve(ROOT, 'examples/udp_filter.o'), rt);
  const { server, client, port, send } = await udpPair();
  const got: string[] = [];
  server.on('message', (m, r) => {
    assert.equal(r.size, m.length);
    got.push(m.toString());
  });
  const hook = socketFilter(server);
  const link = coll.program('udp_filter').attach(hook);
  try {
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

test('socket filter on a UDP socket sees the datagram from its UDP header, as on Linux; trims stop at the header', async () => {
  const rt = new Runtime();
  // LD_ABS 4 (the UDP length) must equal skb->len, skb->protocol is htons(ETH_P_IP) and pkt_type
  // PACKET_HOST; the first payload byte (LD_ABS 8: an empty datagram ends the run with 0, a drop)
  // picks the verdict: '1' returns 1 (below the 8-byte cap), 'c' returns 12, anything else skb->len + 100.
  const prog = await rt.loadProgram({
    name: 'sf',
    type: 'socket_filter',
    insns: assemble(`r6 = r1
r7 = *(u32 *)(r6 +0)
r0 = *(u16 *)skb[4]
if r0 != r7 goto drop
r0 = *(u32 *)(r6 +16)
if r0 != 8 goto drop
r0 = *(u32 *)(r6 +4)
if r0 != 0 goto drop
r0 = *(u8 *)skb[8]
if r0 == 0x31 goto one
if r0 == 0x63 goto cut
r0 = r7
r0 += 100
exit
one:
r0 = 1
exit
cut:
r0 = 12
exit
drop:
r0 = 0
exit
`),
  });
  const { server, client, port, send } = await udpPair();
  const got: Array<[string, number]> = [];
  server.on('message', (m, r) => got.push([m.toString(), r.size]));
  const hook = socketFilter(server);
  const link = prog.attach(hook);
  try {
    for (const d of ['hello', '1 trimmed to nothing', 'cut to four', '', 'last']) await send(d);
    while (got.length < 4) await once(server, 'message');
    assert.deepEqual(got, [['hello', 5], ['', 0], ['cut ', 4], ['last', 4]]);
    assert.equal(link.runs, 5);
    assert.equal(hook.dropped, 1, 'the empty datagram: LD_ABS past the end ends the program with 0');
    assert.equal(hook.truncated, 2);
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
  }
});

test('xdp on a UDP socket: rewrites and tail adjustments reach the application; large frames and several runtimes take the general path', async () => {
  const rt = new Runtime();
  const rt2 = new Runtime();
  // Subtract 32 from the first payload byte (offset 14 + 20 + 8), bounds-checked as the verifier wants.
  const upper = `r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 43
if r4 > r3 goto out
r5 = *(u8 *)(r2 +42)
r5 -= 32
*(u8 *)(r2 +42) = r5
out:
r0 = 2
exit
`;
  const up = await rt.loadProgram({ name: 'up', type: 'xdp', insns: assemble(upper) });
  const up2 = await rt2.loadProgram({ name: 'up2', type: 'xdp', insns: assemble(upper) });
  const trim = await rt.loadProgram({ name: 'trim', type: 'xdp', insns: assemble('r2 = -4\ncall 65\nr0 = 2\nexit\n') });
  const { server, client, port, send } = await udpPair();
  const got: Array<[string, number]> = [];
  server.on('message', (m, r) => got.push([m.toString(), r.size]));
  const hook = dgramXdp(server);
  const next = async (s: string): Promise<[string, number]> => {
    const want = got.length + 1;
    await send(s);
    while (got.length < want) await once(server, 'message');
    return got[want - 1]!;
  };
  let link = up.attach(hook);
  try {
    assert.deepEqual(await next('hello'), ['Hello', 5], 'the rewritten payload');
    const big = 'b'.repeat(5000);
    assert.deepEqual(await next(big), ['B' + big.slice(1), 5000], 'a frame larger than the page (fragments)');
    const link2 = up2.attach(hook);
    assert.deepEqual(await next('hello'), ['(ello', 5], 'two runtimes: the second program sees the first one\'s rewrite');
    link2.detach();
    link.detach();
    link = trim.attach(hook);
    assert.deepEqual(await next('hello world'), ['hello w', 7], 'bpf_xdp_adjust_tail(-4) shortens the payload');
    assert.deepEqual(hook.counts, [0, 0, 4, 0, 0]);
  } finally {
    link.detach();
    server.close();
    client.close();
    rt.close();
    rt2.close();
  }
});

test('xdp and a socket filter on one socket: xdp runs first, as on Linux, whatever the attach order', async () => {
  const rt = new Runtime();
  const up = await rt.loadProgram({
    name: 'up',
    type: 'xdp',
    insns: assemble('r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 43\nif r4 > r3 goto +3\nr5 = *(u8 *)(r2 +42)\nr5 -= 32\n*(u8 *)(r2 +42) = r5\nr0 = 2\nexit\n'),
  });
  // Drop datagrams whose payload starts with a lowercase 'h'.
  const noH = await rt.loadProgram({ name: 'noh', type: 'socket_filter', insns: assemble('r6 = r1\nr0 = *(u8 *)skb[8]\nif r0 == 0x68 goto +2\nr0 = 0xffff\nexit\nr0 = 0\nexit\n') });
  const { server, client, port, send } = await udpPair();
  const emit = server.emit;
  const got: string[] = [];
  server.on('message', (m) => got.push(m.toString()));
  const sf = socketFilter(server);
  const lf = noH.attach(sf);
  const lx = up.attach(dgramXdp(server));
  try {
    await send('hello');
    while (got.length < 1) await once(server, 'message');
    assert.deepEqual(got, ['Hello'], 'the filter saw what xdp passed');
    lx.detach();
    await send('hello');
    await send('world');
    while (got.length < 2) await once(server, 'message');
    assert.deepEqual(got, ['Hello', 'world']);
    assert.equal(sf.dropped, 1);
    lf.detach();
    assert.equal(server.emit, emit, 'the last detach puts the socket\'s emit back');
  } finally {
    lx.detach();
    lf.detach();
    server.close();
    client.close();
    rt.close();
  }
});
