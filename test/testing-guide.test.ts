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

test('guide: cgroupreads counts the reads of tasks below the cgroup in slot 0, by cgroup id', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'cgroupreads.bpf.o'));
  const service = kit.cgroup('/system.slice/app.service');
  const worker = kit.cgroup('/system.slice/app.service/worker', { id: 4242 });
  const other = kit.cgroup('/system.slice/other.service');
  coll.map('cgroup_map').set(0, service.get('kn.id') as bigint);
  const task = kit.model.object('task_struct', { pid: 10, tgid: 10, comm: 'worker' });
  kit.setCgroup(worker, task);
  const outsider = kit.model.object('task_struct', { pid: 11, tgid: 11, comm: 'other' });
  kit.setCgroup(other, outsider);
  await kit.fire('kprobe/vfs_read', { task });
  await kit.fire('kprobe/vfs_read', { task });
  await kit.fire('kprobe/vfs_read', { task: outsider });
  await kit.fire('kprobe/vfs_read');
  kit.setCgroup(service);
  await kit.fire('kprobe/vfs_read');
  const counts = new Map([...coll.map('reads').entries()].map(([k, v]) => [u64(k), u64(v as Uint8Array)]));
  assert.deepEqual(counts, new Map([[4242n, 2n], [service.get('kn.id') as bigint, 1n]]));
});

test('guide: profile counts perf samples by pid and stacks, the stacks in a stack_trace map', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'profile.bpf.o'));
  const worker = kit.model.object('task_struct', { pid: 42, tgid: 42, comm: 'worker' });
  const idle = kit.model.object('task_struct', { pid: 0, tgid: 0, comm: 'swapper/0' });
  const kernel = [0xffffffff81100010n, 0xffffffff81200020n, 0xffffffff81300030n];
  const user = [0x401136n, 0x401200n, 0x7f00deadb000n];
  for (let i = 0; i < 3; i++) await kit.fire('perf_event', { task: worker, stack: { kernel, user }, samplePeriod: 1_000_000 });
  await kit.fire('perf_event', { task: worker, stack: { kernel: [0xffffffff81400040n], user } });
  await kit.fire('perf_event', { task: idle, stack: { kernel } });
  const stacks = coll.map('stackmap', 'stack_trace');
  const got = [...coll.map('counts').entries()].map(([k, v]) => ({ key: kit.decode(coll, 'key_t', k) as Rec, n: u64(v as Uint8Array) }));
  assert.equal(got.length, 2, 'two distinct (pid, kernel stack, user stack) keys; the idle task is not counted');
  const hot = got.find((g) => g.n === 3n)!;
  const cold = got.find((g) => g.n === 1n)!;
  assert.equal(hot.key.pid, 42);
  assert.equal(hot.key.comm, 'worker');
  assert.deepEqual(stacks.frames(hot.key.kern_stack_id as number), kernel);
  assert.deepEqual(stacks.frames(hot.key.user_stack_id as number), user);
  assert.deepEqual(stacks.frames(cold.key.kern_stack_id as number), [0xffffffff81400040n]);
  assert.equal(cold.key.user_stack_id, hot.key.user_stack_id, 'one user stack, one id');
  assert.equal(stacks.size, 3);
});

test('guide: offcputime adds the time a task spent switched out to its stacks', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'offcputime.bpf.o'));
  const server = kit.model.object('task_struct', { pid: 100, tgid: 100, comm: 'server' });
  const client = kit.model.object('task_struct', { pid: 200, tgid: 200, comm: 'client' });
  const serverStack = { kernel: [0xffffffff81a00100n, 0xffffffff81a00200n], user: [0x401500n] };
  // server blocks (its stacks are taken while it is still current), client runs
  await kit.fire('raw_tp/sched_switch', { task: server, stack: serverStack, args: [false, server, client] });
  kit.clock.advance(5_000_000);
  await kit.fire('raw_tp/sched_switch', { task: client, stack: { kernel: [0xffffffff81b00100n] }, args: [false, client, server] });
  const info = [...coll.map('info').entries()].map(([k, v]) => ({ key: kit.decode(coll, 'key_t', k) as Rec, val: kit.decode(coll, 'val_t', v as Uint8Array) as Rec }));
  assert.equal(info.length, 1, 'only the server has run again');
  const { key, val } = info[0]!;
  assert.deepEqual(val, { delta: 5000n, comm: 'server' }, '5 ms off the CPU, in microseconds');
  assert.equal(key.pid, 100);
  const stacks = coll.map('stackmap', 'stack_trace');
  assert.deepEqual(stacks.frames(key.kern_stack_id as number), serverStack.kernel);
  assert.deepEqual(stacks.frames(key.user_stack_id as number), serverStack.user);
  // the client's switch-out stored its kernel stack; it had no user stack: bpf_get_stackid is -EFAULT
  const pending = coll.map('start').get(200) as Uint8Array;
  const ik = kit.decode(coll, 'internal_key', pending) as { key: Rec };
  assert.equal(ik.key.user_stack_id, -14, '-EFAULT');
  assert.deepEqual(stacks.frames(ik.key.kern_stack_id as number), [0xffffffff81b00100n]);
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

test('guide: taskps lists every task with its parent, then a count (an iter/task program)', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(EX, 'taskps.bpf.o'));
  const init = kit.model.objects('task_struct').find((t) => t.get('pid') === 1n);
  const sshd = kit.model.object('task_struct', { pid: 300, tgid: 300, comm: 'sshd', cred: { uid: 0 }, real_parent: init! });
  kit.model.object('task_struct', { pid: 301, tgid: 301, comm: 'bash', cred: { uid: 1000 }, real_parent: sshd });
  const r = await kit.iterate(coll.program('taskps'));
  assert.equal(r.error, undefined);
  assert.equal(
    r.text,
    'PID     PPID    UID   COMM\n' + '1       1       0     systemd\n' + '300     1       0     sshd\n' + '301     300     1000  bash\n' + '1000    1       1000  tsbpf-test\n' + '4 tasks seen\n',
  );
});

test('guide: task storage counts wakeups per task and forgets a task at exit', async () => {
  using kit = new TestKit();
  const coll = await kit.load(join(ROOT, 'test/testing-progs/task_storage.o'));
  const cron = kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cron' });
  await kit.fire('tp_btf/sched_wakeup', { args: [cron] });
  await kit.fire('tp_btf/sched_wakeup', { args: [cron] });
  const perTask = coll.map('per_task', 'task_storage');
  assert.equal(new DataView(perTask.getFor(cron)!.buffer).getBigUint64(0, true), 2n);
  await kit.fire('tp_btf/sched_process_exit', { args: [cron] });
  assert.equal(perTask.getFor(cron), undefined);
});
