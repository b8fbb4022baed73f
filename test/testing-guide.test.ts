/**
 * The tests of docs/testing.md, on the guide's programs (examples/testing/):
 * an execsnoop-like tracepoint program with a ring buffer, an
 * opensnoop-like kprobe/kretprobe pair through a hash map, a runqlat-like
 * tp_btf histogram, and an XDP load balancer fed by the packet builders.
 * No root, no clang: the objects are committed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { ethernet, ethernetHeader, ipv4, ipv6, tcp, udp, inetChecksum } from '../src/testing/packets.js';
import { TsbpfError } from '../src/errors.js';

const EX = join(ROOT, 'examples/testing');
type Rec = Record<string, unknown>;
const u64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

test('guide: execsnoop reports who ran what, with the parent from the task_struct', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'execsnoop.bpf.o'));
  const shell = kit.model.object('task_struct', { pid: 500, tgid: 500, comm: 'bash' });
  const child = kit.model.object('task_struct', { pid: 501, tgid: 501, comm: 'ls', real_parent: shell, cred: { uid: 1000 } });
  kit.clock.advance(2_000);
  const r = await kit.fire('tracepoint/sched/sched_process_exec', { task: child, fields: { filename: '/usr/bin/ls', pid: 501, old_pid: 501 } });
  assert.equal(r.records.events?.length, 1);
  const e = kit.decode(coll, 'exec_event', r.records.events![0]!) as Rec;
  assert.deepEqual(e, { pid: 501, ppid: 500, uid: 1000, old_pid: 501, ts: 1_000_002_000n, comm: 'ls', filename: '/usr/bin/ls' });
});

test('guide: opensnoop pairs entry and return through its hash map', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'opensnoop.bpf.o'));
  const cat = kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cat' });
  await kit.fire('kprobe/do_sys_openat2', { task: cat, args: [-100, '/etc/hostname', 0] });
  assert.equal([...coll.map('start').keys()].length, 1, 'entry remembered');
  const r = await kit.fire('kretprobe/do_sys_openat2', { task: cat, ret: 3 });
  assert.equal([...coll.map('start').keys()].length, 0, 'the pair is done');
  const e = kit.decode(coll, 'open_event', r.records.events![0]!) as Rec;
  assert.deepEqual(e, { pid: 77, ret: 3, flags: 0, comm: 'cat', fname: '/etc/hostname' });
  // A return without an entry (another thread) reports nothing.
  const other = kit.model.object('task_struct', { pid: 78, tgid: 77, comm: 'cat' });
  const none = await kit.fire('kretprobe/do_sys_openat2', { task: other, ret: -2 });
  assert.deepEqual(none.records, {});
});

test('guide: runqlat puts run-queue waits into a log2 histogram', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'runqlat.bpf.o'));
  const idle = kit.model.object('task_struct', { pid: 0, comm: 'swapper/0', __state: 0 });
  const worker = kit.model.object('task_struct', { pid: 42, comm: 'worker', __state: 1 });
  await kit.fire('tp_btf/sched_wakeup', { args: [worker] });
  kit.clock.advance(300_000); // 300 us on the run queue
  await kit.fire('tp_btf/sched_switch', { args: [false, idle, worker] });
  const hist = coll.map('hist');
  assert.equal(u64(hist.get(8) as Uint8Array), 1n, '300 us falls in slot 8 (256..511)');
});

test('guide: the XDP load balancer sends flows to the VIP to one backend each, and passes the rest', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'xdp_lb.bpf.o'));
  const backends = coll.map('backends');
  for (let i = 0; i < 4; i++) backends.set(i, Uint8Array.from([0x02, 0xbe, 0, 0, 0, i, 0, 0]));
  const prog = coll.program('xdp_lb');
  const flow4 = (sport: number) => ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:fe' }, ipv4({ src: '192.0.2.7', dst: '10.0.0.100' }, tcp({ sport, dport: 80, flags: 'S' })));
  const r = prog.run({ data: flow4(40000) });
  assert.equal(r.retval, 3, 'XDP_TX');
  const h = ethernetHeader(r.data!);
  assert.match(h.dst, /^02:be:00:00:00:0[0-3]$/);
  assert.equal(h.src, '02:00:00:00:00:fe');
  // the same flow always goes to the same backend; many flows spread over several
  assert.equal(ethernetHeader(prog.run({ data: flow4(40000) }).data!).dst, h.dst);
  const seen = new Set<string>();
  for (let p = 40000; p < 40064; p++) seen.add(ethernetHeader(prog.run({ data: flow4(p) }).data!).dst);
  assert.ok(seen.size >= 3, `64 flows reached ${seen.size} backends`);
  const picked = [0, 1, 2, 3].reduce((n, i) => n + u64(coll.map('picked').get(i) as Uint8Array), 0n);
  assert.equal(picked, 66n);
  // IPv6 UDP to the VIP is balanced too
  const v6 = ethernet({}, ipv6({ src: '2001:db8::7', dst: '2001:db8::100' }, udp({ sport: 5353, dport: 53 })));
  assert.equal(prog.run({ data: v6 }).retval, 3);
  // other destinations, other protocols: XDP_PASS, the frame untouched
  const other = ethernet({}, ipv4({ src: '192.0.2.7', dst: '10.0.0.1' }, tcp({ sport: 1, dport: 80 })));
  const p = prog.run({ data: other });
  assert.equal(p.retval, 2);
  assert.deepEqual(p.data, other);
  assert.equal(prog.run({ data: ethernet({}, ipv4({ src: '192.0.2.7', dst: '10.0.0.100', proto: 1 }, new Uint8Array(8))) }).retval, 2);
});

test('packets: the builders write the checksums a stack would', () => {
  const f = ethernet({}, ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }, udp({ sport: 1, dport: 2 }, new TextEncoder().encode('hi'))));
  const ip = f.subarray(14, 34);
  assert.equal(inetChecksum(ip), 0, 'the IPv4 header sums to zero with its checksum');
  const pseudo = Uint8Array.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 10]);
  assert.equal(inetChecksum(pseudo, f.subarray(34)), 0, 'UDP over the pseudo-header');
  const t6 = ethernet({}, ipv6({ src: '::1', dst: '2001:db8::1' }, tcp({ sport: 1, dport: 2, flags: 'SA', seq: 5 })));
  const p6 = new Uint8Array(40);
  p6.set(t6.subarray(22, 54), 0);
  p6[35] = 20;
  p6[39] = 6;
  assert.equal(inetChecksum(p6, t6.subarray(54)), 0, 'TCP over the IPv6 pseudo-header');
  assert.equal(t6[54 + 13], 0x12, 'SYN|ACK');
  assert.throws(() => ipv4({ src: '10.0.0.256', dst: '1.1.1.1' }, udp({ sport: 1, dport: 2 })), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  assert.throws(() => ipv6({ src: '1::2::3', dst: '::' }, udp({ sport: 1, dport: 2 })), (e: unknown) => e instanceof TsbpfError);
  assert.throws(() => tcp({ sport: 1, dport: 2, flags: 'X' }), (e: unknown) => e instanceof TsbpfError);
});
