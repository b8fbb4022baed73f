/**
 * What identifies a program's attachment, as the kit models it
 * (src/testing/kit.ts, src/helpers/tracing.ts): bpf_get_attach_cookie (per
 * event, or per program as at attach), bpf_get_func_ip from the kit's symbol
 * table (the function's address for kretprobes too, plus a kprobe's
 * offset), and bpf_get_ns_current_pid_tgid against a pid namespace
 * (test/testing-progs/attach_ids.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import type { Collection } from '../src/runtime/index.js';

const PROG = join(ROOT, 'test/testing-progs/attach_ids.o');
type Ids = { cookie: bigint; func_ip: bigint; ns_ret: bigint; ns_pid: number; ns_tgid: number };
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const slot = (kit: TestKit, coll: Collection, i: number): Ids => kit.decode(coll, 'ids', coll.map('out').get(u32(i)) as Uint8Array) as unknown as Ids;
const EINVAL = -22n;

test('attach: the cookie of the event, else of the program, else 0', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  await kit.fire(coll.program('on_entry'));
  assert.equal(slot(kit, coll, 0).cookie, 0n);
  kit.setAttachCookie(coll.program('on_entry'), 0xc0ffeen);
  await kit.fire(coll.program('on_entry'));
  assert.equal(slot(kit, coll, 0).cookie, 0xc0ffeen);
  await kit.fire(coll.program('on_entry'), { cookie: -1 });
  assert.equal(slot(kit, coll, 0).cookie, 0xffffffffffffffffn, 'a u64');
  await kit.fire(coll.program('on_return'));
  assert.equal(slot(kit, coll, 1).cookie, 0n, 'another program keeps its own');
});

test('attach: bpf_get_func_ip is the probed function\'s address from the symbol table, for entry and return alike', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const at = kit.symbol('vfs_read');
  assert.ok(at >= 0xffffffff81000000n);
  await kit.fire('kprobe/vfs_read', { regs: { ip: 0x1234 } });
  await kit.fire('kretprobe/vfs_read', { ret: 5 });
  await kit.fire(coll.program('at_offset'));
  assert.equal(slot(kit, coll, 0).func_ip, at, 'not regs->ip: the probe\'s address');
  assert.equal(slot(kit, coll, 1).func_ip, at, 'a kretprobe reports the function, not the return address');
  assert.equal(slot(kit, coll, 2).func_ip, at + 0x10n, 'kp->addr: the function plus the offset');
  kit.symbol('vfs_read', 0xffffffff8140a0b0n);
  await kit.fire(coll.program('on_entry'));
  assert.equal(slot(kit, coll, 0).func_ip, 0xffffffff8140a0b0n);
  assert.notEqual(kit.symbol('vfs_write'), kit.symbol('vfs_read'), 'each function its own address');
});

test('attach: bpf_get_ns_current_pid_tgid answers only for the task\'s own pid namespace', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const vars = coll.variables;
  // no namespace named (dev 0, ino 0): -EINVAL, the buffer zeroed
  await kit.fire(coll.program('on_entry'));
  assert.deepEqual([slot(kit, coll, 0).ns_ret, slot(kit, coll, 0).ns_pid], [EINVAL, 0]);
  // the initial namespace, as `stat -L -c '%d %i' /proc/self/ns/pid` shows it: the task's own ids
  vars.get('ns_dev')!.set(4n);
  vars.get('ns_ino')!.set(4026531836n);
  await kit.fire(coll.program('on_entry'));
  assert.deepEqual({ ...slot(kit, coll, 0), cookie: 0n, func_ip: 0n }, { cookie: 0n, func_ip: 0n, ns_ret: 0n, ns_pid: 1000, ns_tgid: 1000 });
  // a task in a container's namespace: its ids there, and only for that namespace
  const inner = kit.model.object('task_struct', { pid: 52000, tgid: 52000, comm: 'app' });
  kit.setPidNamespace({ dev: 4, ino: 4026532500n, pid: 7, tgid: 7 }, inner);
  await kit.fire(coll.program('on_entry'), { task: inner });
  assert.deepEqual([slot(kit, coll, 0).ns_ret, slot(kit, coll, 0).ns_pid], [EINVAL, 0]);
  vars.get('ns_ino')!.set(4026532500n);
  await kit.fire(coll.program('on_entry'), { task: inner });
  assert.deepEqual([slot(kit, coll, 0).ns_ret, slot(kit, coll, 0).ns_pid, slot(kit, coll, 0).ns_tgid], [0n, 7, 7]);
  // a dev that is not a dev_t (u32) never matches
  vars.get('ns_dev')!.set(4n | (1n << 32n));
  await kit.fire(coll.program('on_entry'), { task: inner });
  assert.equal(slot(kit, coll, 0).ns_ret, EINVAL);
});
