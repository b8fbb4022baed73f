/**
 * Local storage maps (src/maps/local-storage.ts and its four classes) and
 * bpf_task_storage_get/_delete under the kit (src/helpers/storage.ts):
 * test/testing-progs/task_storage.c keeps per-task state in a task storage
 * map, made on a task's first wakeup and dropped at its exit. The create
 * checks are bpf_local_storage_map_alloc_check's (the value size limit was
 * checked on Linux 6.18: 65407 bytes load, 65408 are E2BIG).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { variablesOf } from '../src/object/variables.js';
import { TsbpfError } from '../src/errors.js';
import { LOCAL_STORAGE_MAX_VALUE_SIZE, TaskStorageMap, type LocalStorageMap } from '../src/maps/index.js';
import type { MapSpec } from '../src/object/spec.js';

const PROG = join(ROOT, 'test/testing-progs/task_storage.o');
const u64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const errno = (e: string) => (x: unknown) => x instanceof TsbpfError && x.errno === e;

async function setup(useInit = 0) {
  const kit = new TestKit();
  const spec = await loadObjectFile(PROG);
  variablesOf(spec).get('use_init')!.set(useInit);
  const coll = await kit.load(spec);
  return { kit, coll, map: coll.map('per_task') as unknown as LocalStorageMap, v: (n: string) => coll.variables.get(n)!.get() };
}

test('task storage: a value per task, made with F_CREATE, found again, dropped with delete', async () => {
  const { kit, map, v } = await setup();
  using _ = kit;
  assert.ok(map instanceof TaskStorageMap);
  const cron = kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cron' });
  const sshd = kit.model.object('task_struct', { pid: 300, tgid: 300, comm: 'sshd' });
  await kit.fire('tp_btf/sched_wakeup', { args: [cron] });
  kit.clock.advance(500);
  await kit.fire('tp_btf/sched_wakeup', { args: [cron] });
  await kit.fire('tp_btf/sched_wakeup', { args: [sshd] });
  assert.equal(u64(map.getFor(cron)!), 2n);
  assert.equal(u64(map.getFor(cron)!, 8), 1_000_000_500n);
  assert.equal(u64(map.getFor(sshd)!), 1n);
  assert.equal(map.size, 2);
  // unknown flags give NULL; the current task has no value and a get without F_CREATE makes none
  assert.equal(v('bad_flags_null'), 1n);
  assert.equal(v('current_wakeups'), 0xffffffffffffffffn);
  assert.equal(map.getFor(kit.task), undefined);
  // its value seen by the program once the host gives it one
  map.setFor(kit.task, Uint8Array.of(41, 0, 0, 0, 0, 0, 0, 0, ...new Array(16).fill(0)));
  await kit.fire('tp_btf/sched_wakeup', { args: [sshd] });
  assert.equal(v('current_wakeups'), 41n);
  await kit.fire('tp_btf/sched_process_exit', { args: [cron] });
  assert.equal(v('delete_ret'), 0n);
  assert.equal(v('null_task_delete'), -22n);
  assert.equal(map.getFor(cron), undefined);
  await kit.fire('tp_btf/sched_process_exit', { args: [cron] });
  assert.equal(v('delete_ret'), -2n);
  assert.equal(map.size, 2);
});

test('task storage: F_CREATE copies the initial value the program passes', async () => {
  const { kit, coll, map } = await setup(1);
  using _ = kit;
  coll.map('init_val').set(0, Uint8Array.of(100, 0, 0, 0, 0, 0, 0, 0, ...new Array(8).fill(0), 7, 0, 0, 0, 0, 0, 0, 0));
  const t = kit.model.object('task_struct', { pid: 77, tgid: 77 });
  await kit.fire('tp_btf/sched_wakeup', { args: [t] });
  const got = map.getFor(t)!;
  assert.equal(u64(got), 101n);
  assert.equal(got[16], 7);
});

test('local storage maps: the host names objects, not fds; flags as bpf_local_storage_update', async () => {
  const { kit, map } = await setup();
  using _ = kit;
  const t = kit.model.object('task_struct', { pid: 5 });
  const val = new Uint8Array(24).fill(1);
  assert.throws(() => map.setFor(t, val, 2 /* BPF_EXIST */), errno('ENOENT'));
  map.setFor(t, val, 1 /* BPF_NOEXIST */);
  assert.throws(() => map.setFor(t, val, 1), errno('EEXIST'));
  map.setFor(t, new Uint8Array(24).fill(2), 2);
  assert.equal(map.getFor(t)![0], 2);
  assert.throws(() => map.setFor(t, val, 8), errno('EINVAL'));
  // the kernel keys these maps by a file descriptor (a pidfd for tasks), which tsbpf does not have
  assert.throws(() => map.get(3), errno('EBADF'));
  assert.throws(() => map.set(3, val), errno('EBADF'));
  assert.throws(() => [...map.keys()], errno('ENOTSUPP'));
  map.deleteFor(t);
  assert.throws(() => map.deleteFor(t), errno('ENOENT'));
});

test('local storage maps: Linux\'s create checks for all four types, with typed errors', () => {
  using rt = new Runtime();
  const ok: Omit<MapSpec, 'type'> = { name: 's', keySize: 4, valueSize: 16, maxEntries: 0, flags: 1, pinning: 'none', btfKeyTypeId: 1, btfValueTypeId: 2 };
  for (const type of ['task_storage', 'inode_storage', 'sk_storage', 'cgrp_storage'] as const) {
    const m = rt.createMap({ ...ok, type });
    assert.equal(m.type, type);
    m.close();
    const bad = (over: Partial<MapSpec>, e: string) => assert.throws(() => rt.createMap({ ...ok, type, ...over }), errno(e), `${type} ${JSON.stringify(over)}`);
    bad({ flags: 0 }, 'EINVAL'); // BPF_F_NO_PREALLOC is required
    bad({ flags: 1 | 2 }, 'EINVAL'); // BPF_F_NO_COMMON_LRU is not a storage flag
    bad({ maxEntries: 1 }, 'EINVAL');
    bad({ keySize: 8 }, 'EINVAL');
    bad({ valueSize: 0 }, 'EINVAL');
    bad({ btfValueTypeId: undefined }, 'EINVAL');
    bad({ valueSize: LOCAL_STORAGE_MAX_VALUE_SIZE + 1 }, 'E2BIG');
    rt.createMap({ ...ok, type, flags: 1 | (1 << 9) /* BPF_F_CLONE */, valueSize: LOCAL_STORAGE_MAX_VALUE_SIZE }).close();
  }
  assert.equal(LOCAL_STORAGE_MAX_VALUE_SIZE, 65407);
});
