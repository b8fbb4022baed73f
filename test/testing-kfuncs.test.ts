/**
 * The task kfuncs under the kit (src/helpers/object-kfuncs.ts), in both
 * engines: test/testing-progs/task_kfuncs.c finds a task by pid
 * (bpf_task_from_pid over the kit's model), takes a second reference
 * (bpf_task_acquire) and drops both, after testing the kfunc with
 * bpf_ksym_exists()'s idiom (an lddw of its BTF id, a constant once
 * verified); a weak kfunc no kernel has reads as absent and its guarded
 * call never runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { TestKit } from '../src/testing/index.js';
import { loadObjectFile } from '../src/object/file.js';

const PROG = join(ROOT, 'test/testing-progs/task_kfuncs.o');

for (const engine of ['jit', 'interpreter'] as const) {
  test(`${engine}: bpf_task_from_pid finds the model's task by pid, or NULL; weak kfuncs as libbpf resolves them`, async () => {
    const kit = new TestKit({ runtime: { engine } });
    using _ = kit;
    const coll = await kit.load(await loadObjectFile(PROG));
    kit.model.object('task_struct', { pid: 77, tgid: 77, comm: 'cron' });
    const v = coll.variables;
    v.get('target_pid')!.set(77);
    const r = await kit.fire(coll.program('by_pid'), { args: [kit.task] });
    assert.equal(r.retval, 0n);
    assert.equal(v.get('has_kfunc')!.get(), 1, 'the kfunc the kit runs exists');
    assert.equal(v.get('has_missing')!.get(), 0, 'the weak kfunc no kernel has does not');
    assert.equal(v.get('found_pid')!.get(), 77);
    assert.equal(v.get('found_comm')!.get(), 'cron');
    // a pid no task has, and the idle task's 0: NULL
    for (const pid of [4242, 0]) {
      v.get('target_pid')!.set(pid);
      v.get('found_pid')!.set(0);
      await kit.fire(coll.program('by_pid'), { args: [kit.task] });
      assert.equal(v.get('found_pid')!.get(), -1, `pid ${pid}`);
    }
  });
}
