/**
 * Iterator programs under the kit (src/testing/iter.ts, kit.iterate):
 * test/testing-progs/task_iter.c is libbpf-bootstrap's task_iter (one
 * bpf_seq_write record per task) plus a ps-like text iterator with a stop
 * call, and one that writes more than the seq buffer holds, or asks for a
 * retry, to test bpf_seq_read's overflow and retry rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit, SEQ_BUF_SIZE } from '../src/testing/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { variablesOf } from '../src/object/variables.js';
import { TsbpfError } from '../src/errors.js';

const PROG = join(ROOT, 'test/testing-progs/task_iter.o');
type Rec = Record<string, unknown>;

/** The kit's own tasks (init, pid 1; the current task, pid 1000) and one more. */
async function setup(consts: Record<string, number> = {}): Promise<{ kit: TestKit; coll: Awaited<ReturnType<TestKit['load']>> }> {
  const kit = new TestKit();
  const spec = await loadObjectFile(PROG);
  const vars = variablesOf(spec);
  for (const [k, v] of Object.entries(consts)) vars.get(k)!.set(v);
  const coll = await kit.load(spec);
  kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cron', __state: 1 });
  return { kit, coll };
}

test('iterate: one run per task by pid, a stop call with a NULL task, the text a reader cats', async () => {
  const { kit, coll } = await setup();
  using _ = kit;
  const r = await kit.iterate(coll.program('ps_lines'));
  assert.equal(r.error, undefined);
  assert.equal(r.text, '    PID     TID COMM\n      1       1 systemd\n     77      77 cron\n   1000    1000 tsbpf-test\n-- 3 tasks\n');
  assert.equal(r.runs, 4);
  const v = coll.variables;
  assert.equal(v.get('stop_calls')!.get(), 1n);
  // the stop call sees the last object's seq_num; the session is the kit's first iterator file
  assert.equal(v.get('stop_seq_num')!.get(), 2n);
  assert.equal(v.get('stop_session')!.get(), 1n);
  await kit.iterate(coll.program('ps_lines'));
  assert.equal(v.get('stop_session')!.get(), 2n);
  assert.equal(v.get('stop_calls')!.get(), 2n);
});

test('iterate: libbpf-bootstrap task_iter records (bpf_seq_write), with each task\'s kernel stack', async () => {
  const { kit, coll } = await setup();
  using _ = kit;
  const cron = kit.model.objects('task_struct').find((t) => t.get('pid') === 77n)!;
  kit.setTaskStack(cron, { kernel: [0xffffffff81000010n, 0xffffffff81000020n] });
  const r = await kit.iterate(coll.program('get_tasks'));
  const size = 4 + 4 + 4 + 16 + 4 + 4 * 8; // sizeof(struct task_info): kstack lands 8-aligned at 32
  assert.equal(r.output.length, 3 * size);
  const recs = [0, 1, 2].map((i) => kit.decode(coll, 'task_info', r.output.subarray(i * size, (i + 1) * size)) as Rec);
  assert.deepEqual(recs.map((t) => [t.pid, t.tid, t.comm, t.state]), [[1, 1, 'systemd', 0], [77, 77, 'cron', 1], [1000, 1000, 'tsbpf-test', 0]]);
  assert.equal(recs[1]!.kstack_len, 2);
  assert.deepEqual(recs[1]!.kstack, [0xffffffff81000010n, 0xffffffff81000020n, 0n, 0n]);
  assert.equal(recs[0]!.kstack_len, 0);
});

test('iterate: link_info.task narrows the walk to a thread (tid) or a process (pid), as bpf_iter_attach_task', async () => {
  const { kit, coll } = await setup();
  using _ = kit;
  // a process 500 with two threads, made before its leader: the leader still comes first
  kit.model.object('task_struct', { pid: 502, tgid: 500, comm: 'worker2' });
  kit.model.object('task_struct', { pid: 501, tgid: 500, comm: 'worker1' });
  kit.model.object('task_struct', { pid: 500, tgid: 500, comm: 'server' });
  const p = coll.program('ps_lines');
  const lines = (t: string): string[] => t.trim().split('\n').slice(1, -1).map((l) => l.trim().split(/\s+/).join(' '));
  assert.deepEqual(lines((await kit.iterate(p, { task: { pid: 500 } })).text), ['500 500 server', '500 502 worker2', '500 501 worker1']);
  assert.deepEqual(lines((await kit.iterate(p, { task: { tid: 501 } })).text), ['500 501 worker1']);
  assert.deepEqual(lines((await kit.iterate(p)).text), ['1 1 systemd', '77 77 cron', '500 500 server', '500 501 worker1', '500 502 worker2', '1000 1000 tsbpf-test']);
  // no such task: the stop call alone
  assert.equal((await kit.iterate(p, { task: { tid: 4242 } })).text, '-- 1 tasks\n');
  await assert.rejects(kit.iterate(p, { task: { tid: 1, pid: 1 } }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  await assert.rejects(kit.iterate(p, { task: { pid_fd: 3 } }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
});

test('iterate: an object that overflows the seq buffer is run again at the next read; one too big for it is E2BIG', async () => {
  // 5 blocks of 4000 bytes per task: two tasks never fit in the 32 KiB buffer together
  {
    const { kit, coll } = await setup({ chunks: 5 });
    using _ = kit;
    const r = await kit.iterate(coll.program('big_lines'));
    assert.equal(r.error, undefined);
    assert.equal(r.output.length, 3 * 20000);
    assert.deepEqual([0, 20000, 40000].map((o) => String.fromCharCode(r.output[o]!)), ['b', 'z', 'm']); // 'a' + pid % 26: 1, 77, 1000
    // task 1; task 77 overflows, then again first; task 1000 overflows, then again first; the stop call
    assert.equal(r.runs, 6);
    assert.equal(coll.variables.get('last_ret')!.get(), 0n);
  }
  {
    const { kit, coll } = await setup({ chunks: 9 });
    using _ = kit;
    assert.ok(9 * 4000 >= SEQ_BUF_SIZE);
    const r = await kit.iterate(coll.program('big_lines'));
    assert.equal(r.error?.errno, 'E2BIG');
    assert.equal(r.output.length, 0);
    assert.equal(r.runs, 1);
    // the ninth write did not fit: bpf_seq_write said -EOVERFLOW
    assert.equal(coll.variables.get('last_ret')!.get(), -75n);
  }
});

test('iterate: a program returning 1 gets its object again; first in a read, the read fails with EAGAIN', async () => {
  {
    const { kit, coll } = await setup({ retry_pid: 77, retry_times: 1 });
    using _ = kit;
    const r = await kit.iterate(coll.program('big_lines'));
    assert.equal(r.error, undefined);
    assert.deepEqual(Array.from(r.output.filter((_b, i) => i % 4000 === 0), (b) => String.fromCharCode(b)), ['b', 'z', 'm']);
    assert.equal(r.runs, 5);
  }
  {
    const { kit, coll } = await setup({ retry_pid: 77, retry_times: 2 });
    using _ = kit;
    const r = await kit.iterate(coll.program('big_lines'));
    assert.equal(r.error?.errno, 'EAGAIN');
    assert.equal(r.output.length, 4000); // what cat printed before its read error
  }
});

test('iterate and fire keep to their own programs; other iterator targets are refused with a reason', async () => {
  const { kit, coll } = await setup();
  using _ = kit;
  await assert.rejects(kit.fire(coll.program('ps_lines')), /kit\.iterate/);
  // three programs at iter/task: a hook name does not say which file to read
  await assert.rejects(kit.iterate('iter/task'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL');
  const tr = new TestKit();
  using _t = tr;
  const other = await tr.load(join(ROOT, 'test/testing-progs/task_reader.o'));
  const first = [...other.programs.values()][0]!;
  await assert.rejects(tr.iterate(first), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /kit\.fire/.test(e.message));
});
