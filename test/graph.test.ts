/**
 * The program's own linked lists and rbtrees (src/verifier/graph.ts, src/object/btf/graph-root.ts). The
 * kernel's verdicts on the C programs of test/real-progs/graph_*.c are recorded
 * (test/real-progs.test.ts holds tsbpf to them); here: the roots the BTF declares (their
 * `__contains`, in map values, global data and allocated objects), the pointers the list
 * and rbtree kfuncs leave behind, and the runtime, which refuses to run a program using a list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { Runtime } from '../src/runtime/index.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { structMeta } from '../src/object/btf/struct-meta.js';
import { mapValueFields } from '../src/object/btf/map-fields.js';
import { graphRootOf } from '../src/object/btf/graph-root.js';
import { TsbpfError } from '../src/errors.js';
import { DIR } from './real-progs/corpus.js';

function judge(obj: string): { ok: boolean; errno?: string; message?: string; log: string } {
  const coll = loadObjectFileSync(join(DIR, obj));
  const prog = [...coll.programs.values()][0]!;
  const r = verify(inputFromSpec(coll, prog, { logLevel: 2 }));
  return { ok: r.ok, errno: r.error?.errno, message: r.error?.kernelMessage.split('\n').pop(), log: r.log ?? '' };
}

test('a list head\'s __contains names the struct of its nodes and the node member\'s offset', () => {
  const coll = loadObjectFileSync(join(DIR, 'graph_list_map.o'));
  const btf = coll.btf!;
  const elem = btf.typeByName('elem', 'struct')!.id;
  const root = { valueTypeId: elem, valueName: 'elem', nodeOffset: 32 };
  // a map value: the lock at 0, the head at 8
  assert.deepEqual(mapValueFields(btf, btf.typeByName('lists', 'struct')!.id),
    { spinLock: 0, graphRoots: [{ off: 8, kind: 'bpf_list_head', root }] });
  // global data: the variable carries the tag (component -1)
  const data = coll.maps.get('.data.A')!;
  const g = mapValueFields(btf, data.btfValueTypeId!)!;
  assert.deepEqual(g.graphRoots?.map((r) => r.root), [root]);
  assert.notEqual(g.spinLock, undefined);
  // a member without a tag (elem's own lock, index 1) is no root Linux accepts
  assert.equal(graphRootOf(btf, elem, 1, 'bpf_list_head'), 'invalid');
  // an allocated object's record holds its root and its lock
  const bagBtf = loadObjectFileSync(join(DIR, 'graph_list_in_obj.o')).btf!;
  const bag = structMeta(bagBtf, bagBtf.typeByName('bag', 'struct')!.id)!;
  assert.deepEqual(bag.fields.map((f) => [f.kind, f.off]), [['bpf_spin_lock', 0], ['bpf_list_head', 8]]);
  assert.deepEqual(bag.fields[1]!.root, { valueTypeId: bagBtf.typeByName('leaf', 'struct')!.id, valueName: 'leaf', nodeOffset: 0 });
});

test('a pop gives an owning pointer at the node; a push leaves a non-owning one until the unlock', () => {
  const pop = judge('graph_list_global.o');
  assert.equal(pop.ok, true, pop.message);
  // r0 after bpf_list_pop_front: an elem at node2's offset (32), maybe NULL
  assert.match(pop.log, /R0(_w)?=ptr_or_null_elem\(id=\d+,ref_obj_id=\d+,off=32\)/);
  const write = judge('graph_list_nonown_write.o');
  assert.equal(write.ok, true, write.message);
  const after = judge('graph_list_nonown_after_unlock.o');
  assert.equal(after.ok, false);
  assert.equal(after.message, 'R7 invalid mem access \'scalar\'');
});

test('the list kfuncs want the head\'s own lock held and the node the head contains', () => {
  assert.equal(judge('graph_list_no_lock.o').message, 'bpf_spin_lock at off=0 must be held for bpf_list_head');
  assert.equal(judge('graph_list_obj_lock_other.o').message, 'bpf_spin_lock at off=0 must be held for bpf_list_head');
  assert.equal(judge('graph_list_wrong_node.o').message, 'arg#1 offset=0, but expected bpf_list_node at offset=32 in struct elem');
  assert.equal(judge('graph_list_push_twice.o').message, 'arg#1 expected pointer to allocated object');
  assert.equal(judge('graph_list_head_access.o').message, 'bpf_list_head cannot be accessed directly by load/store');
});

test('bpf_rbtree_add calls its less callback with two non-owning nodes, under the tree\'s lock', () => {
  const add = judge('graph_rbtree_add.o');
  assert.equal(add.ok, true, add.message);
  // the callback's frame: R1 and R2 are tree_items at the node's offset (8), not NULL, not referenced
  assert.match(add.log, /R1(_w)?=ptr_tree_item\(off=8\) R2(_w)?=ptr_tree_item\(off=8\)/);
  assert.equal(judge('graph_rbtree_less_write.o').ok, true);
  assert.equal(judge('graph_rbtree_less_unlock.o').message, 'can\'t spin_{lock,unlock} in rbtree cb');
  assert.equal(judge('graph_rbtree_no_lock.o').message, 'bpf_spin_lock at off=16 must be held for bpf_rb_root');
  // bpf_rbtree_first's node is the tree's: gone past the unlock
  assert.equal(judge('graph_rbtree_first_after_unlock.o').message, 'R6 invalid mem access \'scalar\'');
  // Linux 6.16 on: bpf_rbtree_remove takes an owning node too
  assert.equal(judge('graph_rbtree_remove_owning.o').ok, true);
});

test('Linux 6.16\'s peeks and tree walks give non-owning nodes, usable under the lock only', () => {
  const front = judge('graph_list_front.o');
  assert.equal(front.ok, true, front.message);
  // r0 after bpf_list_front: an elem at node2's offset, maybe NULL, holding no reference
  assert.match(front.log, /call bpf_list_front#\d+ +; R0(_w)?=ptr_or_null_elem\(id=\d+,off=32\)/);
  assert.equal(judge('graph_list_front_store.o').ok, true);
  assert.equal(judge('graph_list_front_after_unlock.o').message, 'R6 invalid mem access \'scalar\'');
  // (a copy spilled to the stack dies with the lock too)
  assert.equal(judge('graph_list_front_escape.o').message, 'R1 invalid mem access \'scalar\'');
  assert.equal(judge('graph_list_front_drop.o').message, 'R1 must be referenced or trusted');
  assert.equal(judge('graph_list_front_unchecked.o').message, 'R0 invalid mem access \'ptr_or_null_\'');
  assert.equal(judge('graph_list_front_no_lock.o').message, 'bpf_spin_lock at off=16 must be held for bpf_list_head');
  const walk = judge('graph_rbtree_walk.o');
  assert.equal(walk.ok, true, walk.message);
  assert.equal(judge('graph_rbtree_left_owning.o').ok, true);
  assert.equal(judge('graph_rbtree_root_no_lock.o').message, 'bpf_spin_lock at off=16 must be held for bpf_rb_root');
  const unchecked = judge('graph_rbtree_left_unchecked.o');
  assert.deepEqual([unchecked.errno, unchecked.message], ['EACCES', 'Possibly NULL pointer passed to trusted arg1']);
  assert.equal(judge('graph_rbtree_right_after_unlock.o').message, 'bpf_rbtree_right can only take non-owning or refcounted bpf_rb_node pointer');
});

test('inside the less callback the caller\'s lock is held: peeks pass, the tree may not be walked or changed', () => {
  const first = judge('graph_rbtree_first_in_less.o');
  assert.equal(first.ok, true, first.message);
  assert.equal(judge('graph_rbtree_left_in_less.o').message, 'bpf_rbtree_left not allowed in rbtree cb');
  assert.equal(judge('graph_rbtree_remove_in_less.o').message, 'bpf_rbtree_remove not allowed in rbtree cb');
  // a list under another lock than the tree's
  assert.equal(judge('graph_list_in_less.o').message, 'bpf_spin_lock at off=0 must be held for bpf_list_head');
  assert.equal(judge('graph_rbtree_new_in_less.o').message, 'function calls are not allowed while holding a lock');
});

for (const engine of ['interpreter', 'jit'] as const) {
  test(`the runtime (${engine}) refuses to run a program using a list or an rbtree, naming the kfunc`, async () => {
    using rt = new Runtime({ engine });
    await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'graph_list_wrong_lock.o'))),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_list_pop_front/.test(e.message));
    await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'graph_rbtree_first_after_unlock.o'))),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_rbtree_first/.test(e.message));
    await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'graph_rbtree_walk.o'))),
      (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_rbtree_root/.test(e.message));
  });
}
