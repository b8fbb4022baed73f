/**
 * The kernel model against the kernel: the guide's execsnoop
 * (examples/testing/execsnoop.bpf.o) runs in Linux, attached to
 * sched/sched_process_exec, while this test execs /bin/true; then the kit
 * fires the same tracepoint at the same program with the values the
 * kernel's record reports (pid, parent, uid, comm, file name). Both records
 * must be byte for byte the same but for the timestamp. Needs root and a
 * kernel that loads BPF programs; skips with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { kernelSkip } from './kernel-support.js';
import { KernelRuntime, KernelRingBufReader } from '../src/kernel/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { TestKit } from '../src/testing/index.js';

const OBJ = join(ROOT, 'examples/testing/execsnoop.bpf.o');
/** struct exec_event: pid, ppid, uid, old_pid (u32), ts (u64), comm[16], filename[64] */
const TS = [16, 24];

test('kernel diff: execsnoop on a real execve and on the model give the same record', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  const coll = await rt.load(await loadObjectFile(OBJ));
  const reader = new KernelRingBufReader(coll.map('events'));
  const link = coll.program('handle_exec').attach();
  let kernelRec: Uint8Array | undefined;
  try {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    const pid = child.pid!;
    const exited = new Promise((r) => child.on('exit', r));
    for await (const rec of reader) {
      if (new DataView(rec.buffer, rec.byteOffset).getUint32(0, true) === pid) {
        kernelRec = rec.slice();
        break;
      }
    }
    await exited;
  } finally {
    link.detach();
    reader.close();
    coll.close();
  }
  assert.ok(kernelRec, 'the kernel reported the exec');
  const dv = new DataView(kernelRec.buffer);
  const pid = dv.getUint32(0, true);
  const ppid = dv.getUint32(4, true);
  const uid = dv.getUint32(8, true);
  const str = (a: number, b: number): string => new TextDecoder().decode(kernelRec!.subarray(a, b)).replace(/\0.*$/s, '');
  const comm = str(24, 40);
  const filename = str(40, 104);
  assert.equal(ppid, process.pid, 'the parent is this process');
  assert.equal(uid, process.getuid!());
  assert.equal(comm, 'true');
  assert.match(filename, /\/true$/);

  using kit = new TestKit();
  const mcoll = await kit.load(OBJ);
  const parent = kit.model.object('task_struct', { pid: ppid, tgid: ppid, comm: 'node' });
  const task = kit.model.object('task_struct', { pid, tgid: pid, comm, real_parent: parent, cred: { uid } });
  const r = await kit.fire(mcoll.program('handle_exec'), { task, fields: { filename, pid, old_pid: pid } });
  const modelRec = r.records.events?.[0];
  assert.ok(modelRec);
  assert.equal(modelRec.length, kernelRec.length);
  const strip = (b: Uint8Array): Uint8Array => {
    const c = b.slice();
    c.fill(0, TS[0], TS[1]);
    return c;
  };
  assert.deepEqual(strip(modelRec), strip(kernelRec));
});

/** struct exec_rec of test/testing-progs/exec_args.c: kind, pid, tgid, ppid, old_pid, uid (u32 each), comm[16], filename[64] */
const EXEC_REC = 24 + 16 + 64;

test('kernel diff: sched_process_exec by raw_tp and tp_btf, in Linux and on the model, give the same records', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const obj = join(ROOT, 'test/testing-progs/exec_args.o');
  const rt = new KernelRuntime();
  const coll = await rt.load(await loadObjectFile(obj));
  const reader = new KernelRingBufReader(coll.map('events'));
  const links = [coll.program('raw_exec').attach(), coll.program('btf_exec').attach()];
  const kernelRecs = new Map<number, Uint8Array>();
  let pid = 0;
  try {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    pid = child.pid!;
    const exited = new Promise((r) => child.on('exit', r));
    for await (const rec of reader) {
      const dv = new DataView(rec.buffer, rec.byteOffset);
      if (rec.length === EXEC_REC && dv.getUint32(4, true) === pid) kernelRecs.set(dv.getUint32(0, true), rec.slice());
      if (kernelRecs.size === 2) break;
    }
    await exited;
  } finally {
    for (const l of links) l.detach();
    reader.close();
    coll.close();
  }
  assert.deepEqual([...kernelRecs.keys()].sort(), [1, 2], 'both programs saw the exec');
  const k = kernelRecs.get(1)!;
  const dv = new DataView(k.buffer);
  const str = (a: number, b: number): string => new TextDecoder().decode(k.subarray(a, b)).replace(/\0.*$/s, '');
  const [tgid, ppid, oldPid, uid] = [dv.getUint32(8, true), dv.getUint32(12, true), dv.getUint32(16, true), dv.getUint32(20, true)];
  assert.equal(ppid, process.pid, 'the parent is this process');
  assert.equal(oldPid, pid);
  assert.equal(str(24, 40), 'true');
  assert.equal(str(40, 104), '/bin/true');
  // The raw tracepoint and tp_btf programs read the same three arguments, so the kernel's two records agree but for the kind.
  assert.deepEqual(kernelRecs.get(2)!.subarray(4), k.subarray(4));

  // The model fed with the values the kernel reported: a task, its parent, the old pid and a linux_binprm.
  using kit = new TestKit();
  const mcoll = await kit.load(obj);
  const parent = kit.model.object('task_struct', { pid: ppid, tgid: ppid, comm: 'node' });
  const task = kit.model.object('task_struct', { pid, tgid, comm: str(24, 40), real_parent: parent, cred: { uid } });
  const bprm = kit.model.object('linux_binprm', { filename: str(40, 104) });
  for (const [kind, prog] of [[1, 'raw_exec'], [2, 'btf_exec']] as const) {
    const r = await kit.fire(mcoll.program(prog), { task, args: [task, oldPid, bprm] });
    const modelRec = r.records.events?.[0];
    assert.ok(modelRec, `${prog} produced a record in the kit`);
    assert.deepEqual(modelRec, kernelRecs.get(kind), `${prog}: the kit's record is the kernel's, byte for byte`);
  }
});
