// The guide's tests (docs/testing.md) written once for any test runner:
// each runner's entry file (guide.node.test.mjs, guide.vitest.test.mjs,
// guide.jest.test.mjs) passes its own `test` function. The assertions are
// node:assert's, which every runner reports as failures when they throw.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { TestKit, ethernet, ethernetHeader, ipv4, tcp } from 'tsbpf/testing';

const obj = (name) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const u64 = (b) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

/** Run `body` with a fresh kit, closed afterwards (`using kit = new TestKit()` where the runner's syntax allows it). */
async function withKit(body) {
  const kit = new TestKit();
  try {
    await body(kit);
  } finally {
    kit.close();
  }
}

export function guideSuite(test) {
  test('execsnoop reports who ran what, with the parent from the task_struct', () =>
    withKit(async (kit) => {
      const coll = await kit.load(obj('execsnoop.bpf.o'));
      const shell = kit.model.object('task_struct', { pid: 500, tgid: 500, comm: 'bash' });
      const child = kit.model.object('task_struct', { pid: 501, tgid: 501, comm: 'ls', real_parent: shell, cred: { uid: 1000 } });
      const r = await kit.fire('tracepoint/sched/sched_process_exec', { task: child, fields: { filename: '/usr/bin/ls', pid: 501, old_pid: 501 } });
      assert.equal(r.records.events.length, 1);
      assert.deepEqual(kit.decode(coll, 'exec_event', r.records.events[0]), {
        pid: 501, ppid: 500, uid: 1000, old_pid: 501, ts: 1_000_000_000n, comm: 'ls', filename: '/usr/bin/ls',
      });
    }));

  test('opensnoop pairs entry and return through its hash map', () =>
    withKit(async (kit) => {
      const coll = await kit.load(obj('opensnoop.bpf.o'));
      const cat = kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cat' });
      await kit.fire('kprobe/do_sys_openat2', { task: cat, args: [-100, '/etc/hostname', 0] });
      const r = await kit.fire('kretprobe/do_sys_openat2', { task: cat, ret: 3 });
      assert.deepEqual(kit.decode(coll, 'open_event', r.records.events[0]), { pid: 77, ret: 3, flags: 0, comm: 'cat', fname: '/etc/hostname' });
      assert.equal([...coll.map('start').keys()].length, 0);
    }));

  test('cgroupreads counts only the tasks below the cgroup in its cgroup array', () =>
    withKit(async (kit) => {
      const coll = await kit.load(obj('cgroupreads.bpf.o'));
      const service = kit.cgroup('/system.slice/app.service');
      const worker = kit.cgroup('/system.slice/app.service/worker', { id: 4242 });
      coll.map('cgroup_map').set(0, service.get('kn.id'));
      const task = kit.model.object('task_struct', { pid: 10, tgid: 10, comm: 'worker' });
      kit.setCgroup(worker, task);
      await kit.fire('kprobe/vfs_read', { task });
      await kit.fire('kprobe/vfs_read', { task });
      await kit.fire('kprobe/vfs_read');                  // kit.task, in the root cgroup: not counted
      assert.deepEqual([...coll.map('reads').entries()].map(([k, v]) => [u64(k), u64(v)]), [[4242n, 2n]]);
    }));

  test('profile counts samples by stack, the stacks in a stack_trace map', () =>
    withKit(async (kit) => {
      const coll = await kit.load(obj('profile.bpf.o'));
      const worker = kit.model.object('task_struct', { pid: 42, tgid: 42, comm: 'worker' });
      const kernel = [0xffffffff81100010n, 0xffffffff81200020n];
      const user = [0x401136n, 0x401200n];
      for (let i = 0; i < 3; i++) await kit.fire('perf_event', { task: worker, stack: { kernel, user } });
      const [[k, v]] = [...coll.map('counts').entries()];
      const key = kit.decode(coll, 'key_t', k);
      assert.equal(u64(v), 3n);
      const stacks = coll.map('stackmap', 'stack_trace');
      assert.deepEqual(stacks.frames(key.kern_stack_id), kernel);
      assert.deepEqual(stacks.frames(key.user_stack_id), user);
    }));

  test('the XDP load balancer sends a flow to the VIP to a backend', () =>
    withKit(async (kit) => {
      const coll = await kit.load(obj('xdp_lb.bpf.o'));
      for (let i = 0; i < 4; i++) coll.map('backends').set(i, Uint8Array.from([0x02, 0xbe, 0, 0, 0, i, 0, 0]));
      const frame = ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:fe' }, ipv4({ src: '192.0.2.7', dst: '10.0.0.100' }, tcp({ sport: 40000, dport: 80, flags: 'S' })));
      const r = coll.program('xdp_lb').run({ data: frame });
      assert.equal(r.retval, 3, 'XDP_TX');
      assert.match(ethernetHeader(r.data).dst, /^02:be:00:00:00:0[0-3]$/);
    }));
}
