/**
 * The kernel model (src/testing/model.ts): objects laid out as the kernel
 * BTF says, written and read back field by field, nested pointers, arrays,
 * strings, unions, bitfields, one-member wrappers; typed errors for what
 * does not fit; read-only 'kernel' regions; the shipped small kernel's
 * tracepoint records and pt_regs match the layouts recorded from Linux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { AddressSpace } from '../src/memory/address-space.js';
import { KernelModel } from '../src/testing/model.js';
import { shippedKernelBtf } from '../src/testing/kernel-btf.js';
import { contextBtf } from '../src/object/btf/context.js';
import { loadBtfFile } from '../src/object/btf/file.js';
import type { StructType } from '../src/object/btf/types.js';
import { TsbpfError } from '../src/errors.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

function offsetOf(btf: ReturnType<typeof shippedKernelBtf>, struct: string, path: string): number {
  let t = btf.typeByName(struct, 'struct') as StructType;
  let off = 0;
  for (const name of path.split('.')) {
    const m = t.members.find((x) => x.name === name)!;
    assert.ok(m, `${struct} has ${path}`);
    off += m.bitOffset / 8;
    t = btf.typeById(btf.resolve(m.typeId)) as StructType;
  }
  return off;
}

test('model: a task_struct with nested pointers, strings and wrappers reads back as written', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const btf = shippedKernelBtf();
  const model = new KernelModel(space, btf);
  const parent = model.object('task_struct', { pid: 1, tgid: 1, comm: 'systemd' });
  const task = model.object('task_struct', { pid: 42, tgid: 41, comm: 'bash', real_parent: parent, cred: { uid: 1000, euid: 0 } });
  assert.equal(task.get('pid'), 42n);
  assert.equal(task.get('tgid'), 41n);
  assert.equal(task.get('comm'), 'bash');
  assert.equal(task.get('real_parent.tgid'), 1n);
  assert.equal(task.get('real_parent.comm'), 'systemd');
  assert.equal(task.get('cred.uid'), 1000n);
  assert.equal(task.get('cred.uid.val'), 1000n);
  assert.equal(task.get('cred.euid'), 0n);
  // zero elsewhere
  assert.equal(task.get('prio'), 0n);
  assert.equal(task.get('mm'), 0n);
  // the bytes are where the BTF says
  const pidOff = offsetOf(btf, 'task_struct', 'pid');
  assert.equal(space.view.getInt32(task.addr + pidOff, true), 42);
  const credPtr = space.readU64(task.addr + offsetOf(btf, 'task_struct', 'cred'));
  assert.equal(space.view.getUint32(Number(credPtr) + offsetOf(btf, 'cred', 'uid'), true), 1000);
  assert.equal(space.readU64(task.addr + offsetOf(btf, 'task_struct', 'real_parent')), BigInt(parent.addr));
  // negative values of signed fields
  task.set({ exit_code: -9 });
  assert.equal(task.get('exit_code'), -9n);
});

test('model: bitfields, unions (anonymous members), arrays and char pointers', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const model = new KernelModel(space, shippedKernelBtf());
  const t = model.object('task_struct', { in_execve: 1, in_iowait: 1, sched_reset_on_fork: 0 });
  assert.equal(t.get('in_execve'), 1n);
  assert.equal(t.get('in_iowait'), 1n);
  assert.equal(t.get('sched_contributes_to_load'), 0n);
  // neighbouring bits untouched by a write
  t.set({ sched_contributes_to_load: 1 });
  assert.equal(t.get('in_execve'), 1n);
  assert.equal(t.get('sched_contributes_to_load'), 1n);
  assert.throws(() => t.set({ in_execve: 2 }), (e: unknown) => e instanceof TsbpfError && e.errno === 'EINVAL' && /fit in 1 unsigned bits/.test(e.message));
  // qstr: a union of {hash, len} and hash_len; name is a char pointer (a new kernel string)
  const d = model.object('dentry', { d_name: { hash: 0x1234, len: 6, name: 'passwd' }, d_iname: 'passwd' });
  assert.equal(d.get('d_name.hash_len'), (6n << 32n) | 0x1234n);
  assert.equal(d.get('d_name.name'), 'passwd');
  assert.equal(d.get('d_iname'), 'passwd');
  const file = model.object('file', { f_path: { dentry: d }, f_flags: 0o100 });
  assert.equal(file.get('f_path.dentry.d_name.len'), 6n);
  assert.equal(file.addressOf('f_path'), file.addr);
  // arrays of integers
  const rec = model.object('trace_event_raw_sys_enter', { id: 257, args: [1, 2n, 3] });
  assert.equal(space.readU64(rec.addr + 16 + 8), 2n);
  // a pointer from a plain object allocates the pointee
  const task2 = model.object('struct task_struct', { mm: { arg_start: 0x1000, arg_end: 0x1010 } });
  assert.equal(task2.get('mm.arg_end'), 0x1010n);
});

test('model: what does not fit is a typed error, never a silent truncation', () => {
  const model = new KernelModel(new AddressSpace({ initialPages: 16 }), shippedKernelBtf());
  const isErr = (errno: string, re: RegExp) => (e: unknown) => e instanceof TsbpfError && e.errno === errno && re.test(e.message);
  assert.throws(() => model.object('no_such_struct'), isErr('ENOENT', /no type no_such_struct/));
  assert.throws(() => model.object('task_struct', { nope: 1 }), isErr('EINVAL', /no field nope/));
  assert.throws(() => model.object('task_struct', { comm: 'a-name-longer-than-16' }), isErr('EINVAL', /do not fit in 16/));
  assert.throws(() => model.object('task_struct', { pid: 2 ** 31 }), isErr('EINVAL', /does not fit in 32 signed bits/));
  assert.throws(() => model.object('task_struct', { pid: 1.5 }), isErr('EINVAL', /not an integer/));
  assert.throws(() => model.object('task_struct', { real_parent: 'x' }), isErr('EINVAL', /string points only from a char pointer/));
  assert.throws(() => model.object('task_struct', { stack: { a: 1 } }), isErr('EINVAL', /pointer to void/));
  const t = model.object('task_struct');
  assert.throws(() => t.get('cred.uid'), isErr('ENOENT', /task_struct.cred is NULL/));
});

test('model: objects are read-only kernel regions, freed with the model', () => {
  const space = new AddressSpace({ initialPages: 16 });
  const model = new KernelModel(space, shippedKernelBtf());
  const t = model.object('task_struct', { comm: 'x', cred: { uid: 1 } });
  const r = space.regionOf(t.addr, t.size)!;
  assert.equal(r.kind, 'kernel');
  assert.equal(r.writable, false);
  assert.ok(model.holds(t.addr, t.size));
  assert.ok(!model.holds(t.addr, t.size + 4096));
  const cred = Number(space.readU64(t.addr + offsetOf(shippedKernelBtf(), 'task_struct', 'cred')));
  assert.equal(space.regionOf(cred, 4)?.kind, 'kernel');
  model.close();
  assert.equal(space.regionOf(t.addr, 1), undefined);
  assert.throws(() => model.object('task_struct'), (e: unknown) => e instanceof TsbpfError && e.errno === 'EBADF');
});

test('shipped kernel: tracepoint records and pt_regs are laid out as Linux lays them out', () => {
  const mine = shippedKernelBtf();
  const linux = contextBtf();
  for (const name of ['pt_regs', 'trace_entry', 'trace_event_raw_sys_enter', 'trace_event_raw_sys_exit', 'trace_event_raw_sched_process_exec', 'trace_event_raw_sched_switch', 'trace_event_raw_sched_process_fork', 'trace_event_raw_sched_process_exit']) {
    const a = mine.typeByName(name, 'struct') as StructType;
    const b = linux.typeByName(name, 'struct') as StructType;
    assert.ok(a && b, name);
    assert.equal(a.size, b.size, `${name} size`);
    assert.deepEqual(a.members.map((m) => [m.name, m.bitOffset]), b.members.map((m) => [m.name, m.bitOffset]), name);
  }
});

test('model: the running kernel\'s vmlinux BTF lays out a task_struct too', (t) => {
  if (!existsSync(VMLINUX)) return t.skip(`${VMLINUX} is missing (a kernel without CONFIG_DEBUG_INFO_BTF)`);
  const btf = loadBtfFile(new Uint8Array(readFileSync(VMLINUX)));
  const model = new KernelModel(new AddressSpace({ initialPages: 64 }), btf);
  const parent = model.object('task_struct', { tgid: 7 });
  const task = model.object('task_struct', { pid: 42, tgid: 42, comm: 'bash', real_parent: parent, cred: { uid: 1000 } });
  assert.equal(task.size, btf.sizeof(btf.typeByName('task_struct', 'struct')!.id));
  assert.equal(task.get('real_parent.tgid'), 7n);
  assert.equal(task.get('cred.uid.val'), 1000n);
  assert.equal(task.get('comm'), 'bash');
});
