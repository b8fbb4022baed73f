/**
 * Cgroup and inode local storage under the kit, in both engines:
 * bpf_cgrp_storage_get/_delete (kernel/bpf/bpf_cgrp_storage.c) and
 * bpf_inode_storage_get/_delete (bpf_inode_storage.c) run against model
 * objects as task storage does (src/helpers/storage.ts):
 * test/testing-progs/local_storage.c counts per cgroup at tp_btf/cgroup_mkdir
 * and per directory at lsm/inode_create. The verdicts on cgroup storage are
 * Linux's (test/real-progs/cgrp_storage_*.c, recorded on 6.18); inode storage
 * is offered to LSM programs only, which the recording kernel does not run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { loadObjectFile } from '../src/object/file.js';
import { variablesOf } from '../src/object/variables.js';
import { CgrpStorageMap, InodeStorageMap, type LocalStorageMap } from '../src/maps/index.js';

const PROG = join(ROOT, 'test/testing-progs/local_storage.o');
const u64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const ENGINES = ['jit', 'interpreter'] as const;

async function setup(engine: (typeof ENGINES)[number], useInit = 0) {
  const kit = new TestKit({ runtime: { engine } });
  const spec = await loadObjectFile(PROG);
  variablesOf(spec).get('use_init')!.set(useInit);
  const coll = await kit.load(spec);
  return {
    kit,
    coll,
    cgMap: coll.map('per_cgroup') as unknown as LocalStorageMap,
    dirMap: coll.map('per_dir') as unknown as LocalStorageMap,
    v: (n: string) => coll.variables.get(n)!.get(),
  };
}

for (const engine of ENGINES) {
  test(`cgroup storage (${engine}): a value per struct cgroup, made with F_CREATE, read without, deleted`, async () => {
    const { kit, cgMap, v } = await setup(engine);
    using _ = kit;
    assert.ok(cgMap instanceof CgrpStorageMap);
    const svc = kit.cgroup('/system.slice/cron.service');
    await kit.fire('tp_btf/cgroup_mkdir', { args: [svc, '/system.slice/cron.service'] });
    assert.equal(v('before_count'), 0xffffffffffffffffn);
    kit.clock.advance(250);
    await kit.fire('tp_btf/cgroup_mkdir', { args: [svc, '/system.slice/cron.service'] });
    assert.equal(v('before_count'), 1n);
    assert.equal(u64(cgMap.getFor(svc)!), 2n);
    assert.equal(u64(cgMap.getFor(svc)!, 8), 1_000_000_250n);
    assert.equal(v('bad_flags_null'), 1n);
    assert.equal(v('null_owner_get'), 1n);
    assert.equal(v('null_cg_delete'), -22n);
    // a value the host gives a cgroup is the one the program finds
    const user = kit.cgroup('/user.slice');
    cgMap.setFor(user, Uint8Array.of(9, ...new Array(15).fill(0)));
    await kit.fire('tp_btf/cgroup_mkdir', { args: [user, '/user.slice'] });
    assert.equal(v('before_count'), 9n);
    assert.equal(u64(cgMap.getFor(user)!), 10n);
    // a cgroup at level 3 gets its value and loses it to the second program
    const deep = kit.cgroup('/system.slice/cron.service/job');
    await kit.fire('tp_btf/cgroup_mkdir', { args: [deep, '/system.slice/cron.service/job'] });
    assert.equal(v('cg_delete_ret'), 0n);
    assert.equal(cgMap.getFor(deep), undefined);
    assert.equal(cgMap.size, 2);
  });

  test(`cgroup storage (${engine}): F_CREATE copies the initial value the program passes`, async () => {
    const { kit, coll, cgMap } = await setup(engine, 1);
    using _ = kit;
    coll.map('init_val').set(0, Uint8Array.of(100, ...new Array(15).fill(0)));
    const cg = kit.cgroup('/user.slice');
    await kit.fire('tp_btf/cgroup_mkdir', { args: [cg, '/user.slice'] });
    assert.equal(u64(cgMap.getFor(cg)!), 101n);
  });

  test(`inode storage (${engine}): a value per directory inode at lsm/inode_create, dropped on the third file`, async () => {
    const { kit, dirMap, v } = await setup(engine);
    using _ = kit;
    assert.ok(dirMap instanceof InodeStorageMap);
    const tmp = kit.model.object('inode', { i_mode: 0o40777, i_ino: 2 });
    const etc = kit.model.object('inode', { i_mode: 0o40755, i_ino: 3 });
    const file = (name: string) => kit.model.object('dentry', { d_name: { name } });
    let r = await kit.fire('lsm/inode_create', { args: [tmp, file('a'), 0o100644] });
    assert.equal(r.retval, 0n);
    await kit.fire('lsm/inode_create', { args: [etc, file('b'), 0o100644] });
    assert.equal(u64(dirMap.getFor(tmp)!), 1n);
    assert.equal(u64(dirMap.getFor(etc)!), 1n);
    assert.equal(v('null_inode_delete'), -22n);
    r = await kit.fire('lsm/inode_create', { args: [tmp, file('c'), 0o101644] });
    assert.equal(r.retval, 0xffffffffffffffffn); // -1 as the 64-bit r0
    await kit.fire('lsm/inode_create', { args: [tmp, file('d'), 0o100644] });
    assert.equal(v('inode_delete_ret'), 0n);
    assert.equal(dirMap.getFor(tmp), undefined);
    assert.equal(u64(dirMap.getFor(etc)!), 1n);
  });
}
