/**
 * The kit's cgroup v2 hierarchy (src/testing/cgroups.ts) and what reads it:
 * cgroup_array maps (src/maps/cgroup-array.ts) with
 * bpf_current_task_under_cgroup, bpf_get_current_cgroup_id and
 * bpf_get_current_ancestor_cgroup_id (src/helpers/tracing.ts), and the
 * same cgroup read through task->cgroups->dfl_cgrp
 * (test/testing-progs/cgroups.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { Runtime } from '../src/runtime/index.js';
import { MapError } from '../src/maps/index.js';
import { loadObjectFile } from '../src/object/file.js';

const PROG = join(ROOT, 'test/testing-progs/cgroups.o');
type Ids = { under: bigint[]; id: bigint; ancestor: bigint[]; ancestor_neg: bigint; core_id: bigint; core_level: number };
const u32 = (n: number | bigint): Uint8Array => new Uint8Array(new Uint32Array([Number(n)]).buffer);

async function ids(kit: TestKit, coll: Awaited<ReturnType<TestKit['load']>>): Promise<Ids> {
  await kit.fire(coll.program('cgroup_ids'));
  return kit.decode(coll, 'ids', coll.map('out').get(u32(0)) as Uint8Array) as unknown as Ids;
}

test('cgroups: a task in /a/b is under /a and /a/b, not under /c; ancestors by level', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const a = kit.cgroup('/a', { id: 100 });
  const b = kit.cgroup('/a/b', { id: 200 });
  const c = kit.cgroup('/c');
  const cgMap = coll.map('cgroup_map');
  cgMap.set(u32(0), u32(100));
  cgMap.set(u32(1), u32(c.get('kn.id') as bigint));
  kit.setCgroup(b);
  let o = await ids(kit, coll);
  assert.deepEqual(o.under.map(Number), [1, 0, -7], 'under /a, not under /c, slot 2 past max_entries is -E2BIG');
  assert.equal(o.id, 200n);
  assert.equal(o.core_id, 200n, 'task->cgroups->dfl_cgrp->kn->id is the helper\'s id');
  assert.equal(o.core_level, 2);
  assert.deepEqual(o.ancestor, [1n, 100n, 200n, 0n], 'root, /a, /a/b itself, nothing past its level');
  assert.equal(o.ancestor_neg, 0n);
  // the same task moved to /a: under slot 0 still (the cgroup itself counts), /a/b is no longer its ancestor
  kit.setCgroup(a);
  o = await ids(kit, coll);
  assert.deepEqual(o.under.map(Number), [1, 0, -7]);
  assert.deepEqual(o.ancestor, [1n, 100n, 0n, 0n]);
  assert.equal(b.get('level'), 2n);
  assert.equal(kit.cgroup('/a/b'), b, 'a path names one cgroup');
});

test('cgroups: every task starts in the root (id 1); an empty slot is -EAGAIN', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  coll.map('cgroup_map').set(u32(1), u32(1));
  const o = await ids(kit, coll);
  assert.deepEqual(o.under.map(Number), [-11, 1, -7]);
  assert.equal(o.id, 1n);
  assert.equal(o.core_id, 1n);
  assert.deepEqual(o.ancestor, [1n, 0n, 0n, 0n]);
});

test('cgroups: a cgroup_array takes only ids of the kit\'s cgroups, has no bpf(2) lookup, and takes 4-byte values', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  const m = coll.map('cgroup_map');
  assert.throws(() => m.set(u32(0), u32(4242)), (e: unknown) => e instanceof MapError && e.errno === 'EBADF');
  assert.throws(() => m.set(u32(2), u32(1)), (e: unknown) => e instanceof MapError && e.errno === 'E2BIG');
  m.set(u32(0), u32(1));
  assert.throws(() => m.get(u32(0)), (e: unknown) => e instanceof MapError && e.errno === 'ENOTSUPP');
  m.delete(u32(0));
  assert.throws(() => m.delete(u32(0)), (e: unknown) => e instanceof MapError && e.errno === 'ENOENT');
  // a runtime without a modelled kernel has no cgroups: the map is made, every update is EBADF
  using rt = new Runtime();
  const spec = await loadObjectFile(PROG);
  const plain = rt.createMap({ ...spec.maps.get('cgroup_map')!, name: 'cg' });
  assert.throws(() => plain.set(u32(0), u32(1)), (e: unknown) => e instanceof MapError && e.errno === 'EBADF');
  assert.throws(() => rt.createMap({ ...spec.maps.get('cgroup_map')!, name: 'cg8', valueSize: 8 }), (e: unknown) => e instanceof MapError && e.errno === 'EINVAL');
});

test('cgroups: ids are unique, the root is 1, and a cgroup made by hand answers for itself only', async () => {
  using kit = new TestKit();
  const coll = await kit.load(PROG);
  kit.cgroup('/x', { id: 50 });
  assert.throws(() => kit.cgroup('/y', { id: 50 }), /already has id 50/);
  assert.throws(() => kit.cgroup('/x', { id: 51 }), /exists with id 50/);
  assert.throws(() => kit.cgroup('/', { id: 7 }), /root cgroup has id 1/);
  assert.throws(() => kit.setCgroup(kit.model.object('cgroup', {})), /not a cgroup of this kit/);
  // by hand: a css_set and a cgroup the hierarchy does not know
  kit.task.set({ cgroups: kit.model.object('css_set', { dfl_cgrp: { kn: { id: 77n }, level: 1 } }) });
  coll.map('cgroup_map').set(u32(0), u32(50));
  const o = await ids(kit, coll);
  assert.equal(o.id, 77n);
  assert.deepEqual(o.ancestor, [0n, 77n, 0n, 0n]);
  assert.equal(o.under[0], 0n);
});
