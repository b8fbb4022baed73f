/**
 * What the playground page does with tsbpf, run in Node
 * (playground/src/lib/session.ts): every gallery example gets the verdict
 * the gallery promises (the same as Linux's: .ci/suites/65-playground.sh
 * loads them into the kernel), packets run with map changes, map edits
 * take effect, the debugger steps on the same maps, and the JIT text is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { readObject } from '../src/core.js';
import { EXAMPLES } from '../playground/src/lib/examples.js';
import { Session } from '../playground/src/lib/session.js';
import { buildPacket, DEFAULT_PACKET } from '../playground/src/lib/packet.js';

const objectOf = (id: string) => readObject(new Uint8Array(readFileSync(join(ROOT, 'playground/examples', `${id}.o`))));

test('every example has its C source, its object and the verdict it promises', async () => {
  const s = new Session();
  try {
    for (const ex of EXAMPLES) {
      assert.ok(readFileSync(join(ROOT, 'playground/examples', `${ex.id}.c`), 'utf8').includes(ex.program), `${ex.id}.c defines ${ex.program}`);
      const v = await s.load(objectOf(ex.id), ex.program);
      assert.equal(v.ok ? 'accepted' : 'rejected', ex.verdict, `${ex.id}: ${v.error?.message ?? v.message ?? ''}`);
      assert.equal(v.program, ex.program);
      if (v.ok) assert.ok(v.visits.size > 0, `${ex.id}: states read from the log`);
      else assert.ok(v.error?.sourceLine, `${ex.id}: the rejection names a C line`);
    }
  } finally {
    s.close();
  }
});

test('runs, map edits, ring buffer records and tail calls', async () => {
  const s = new Session();
  try {
    assert.ok((await s.load(objectOf('xdp_firewall'), 'xdp_firewall')).ok);
    const pkt = buildPacket(DEFAULT_PACKET);
    const r1 = s.run('xdp_firewall', pkt);
    assert.equal(r1.result.retval, 2);
    const count = (snap: typeof r1.after) => snap.find((m) => m.name === 'proto_count')!.entries.find(([k]) => k === '11 00 00 00')?.[1];
    assert.equal(count(r1.before), undefined);
    assert.equal(count(r1.after), '01 00 00 00 00 00 00 00');
    s.editMap({ map: 'blocklist', key: '0a 00 00 01', value: '01' });
    assert.equal(s.run('xdp_firewall', pkt).result.retval, 1, 'blocked source dropped');
    s.editMap({ map: 'blocklist', key: '0a 00 00 01' });
    assert.equal(s.run('xdp_firewall', pkt, 10).result.retval, 2);
    assert.equal(count(s.maps()), '0c 00 00 00 00 00 00 00', '1 + 1 + 10 runs');
    assert.match(s.wat('xdp_firewall'), /^\(module/);

    assert.ok((await s.load(objectOf('ringbuf_events'), 'udp_events')).ok);
    const ev = s.run('udp_events', pkt);
    const recs = ev.after.find((m) => m.name === 'events')!.records!;
    assert.equal(recs.length, 1);
    // struct event: saddr, daddr, sport, dport (host order), len
    assert.equal(recs[0], '0a 00 00 01 0a 00 00 02 39 30 35 00 2f 00 00 00');

    assert.ok((await s.load(objectOf('tail_calls'), 'dispatch')).ok);
    assert.equal(s.run('dispatch', pkt).result.retval, 3, 'UDP: handle_udp, XDP_TX');
    assert.equal(s.run('dispatch', buildPacket({ ...DEFAULT_PACKET, l4: 'tcp' })).result.retval, 1, 'TCP: handle_tcp, XDP_DROP');
    assert.equal(s.run('dispatch', buildPacket({ ...DEFAULT_PACKET, l4: 'none', proto: 1 })).result.retval, 2, 'ICMP: empty slot, falls through');
  } finally {
    s.close();
  }
});

test('the debugger steps through the program on the session maps', async () => {
  const s = new Session();
  try {
    assert.ok((await s.load(objectOf('xdp_firewall'), 'xdp_firewall')).ok);
    s.editMap({ map: 'blocklist', key: '0a 00 00 01', value: '01' });
    const d = s.debug('xdp_firewall', buildPacket(DEFAULT_PACKET));
    assert.equal(d.dbg.step().pc, 1);
    d.dbg.setBreakpoint(22);
    assert.deepEqual([d.dbg.continue().reason, d.dbg.pc], ['breakpoint', 22]);
    const end = d.dbg.continue();
    assert.equal(end.reason, 'exit');
    assert.equal(end.r0, 1n, 'the debugger sees the blocklist edit: XDP_DROP');
    assert.equal(d.packetOut()?.length, 47);
    d.close();
    // The debugger's run counted in the same map the JIT-compiled runs use.
    assert.equal(s.maps().find((m) => m.name === 'proto_count')!.entries[0]![1], '01 00 00 00 00 00 00 00');
  } finally {
    s.close();
  }
});

test('a refusal that is not the verifier\'s is reported, not thrown', async () => {
  const s = new Session();
  try {
    const coll = objectOf('packet_counter');
    const ps = coll.programs.get('count_packets')!;
    const bad = { ...coll, programs: new Map([['count_packets', { ...ps, type: 'unspec' as const, typeError: 'section "foo" is no program type' }]]) };
    const v = await s.load(bad, 'count_packets');
    assert.equal(v.ok, false);
    assert.match(v.message ?? '', /no program type.*EINVAL/);
  } finally {
    s.close();
  }
});
