/**
 * The reference-counted kernel-object kfuncs at run time (generic_btf_ids in
 * kernel/bpf/helpers.c): bpf_task_from_pid, bpf_task_acquire/release,
 * bpf_cgroup_acquire/release, for both engines.
 *
 * A verified program's call of one becomes a call of its function here
 * (runtime/loader.ts), under an id no kernel helper has, as the iterators'
 * do (iter-kfuncs.ts). The objects are the test kit's model (HelperKernel):
 * they live as long as the model, so taking a reference is the object
 * itself and dropping one does nothing; the verifier has already proved
 * that every reference taken is released and none is used after.
 */
import type { HelperDef, HelperFn } from '../vm/helper-abi.js';
import { runOf } from './env.js';

/** The first id of these functions: after the iterators' and dynptrs' (iter-kfuncs.ts ITER_KFUNC_ID_BASE, fifteen of them). */
const OBJECT_KFUNC_ID_BASE = 0x7fff_0100;

// bpf_task_from_pid: find_task_by_pid_ns(pid, &init_pid_ns), NULL when no task has that pid;
// without a modelled kernel there are no tasks
const taskFromPid: HelperFn = (env, pid) => runOf(env).host.kernel?.taskByPid?.(Number(BigInt.asIntN(32, pid))) ?? 0n;
// bpf_task_acquire / bpf_cgroup_acquire: refcount_inc_not_zero, which a model object never fails
const acquire: HelperFn = (_env, p) => p;
const release: HelperFn = () => 0n;

const FNS: ReadonlyArray<[string, HelperFn, 'PTR_TO_MEM_OR_NULL' | 'VOID']> = [
  ['bpf_task_from_pid', taskFromPid, 'PTR_TO_MEM_OR_NULL'],
  ['bpf_task_acquire', acquire, 'PTR_TO_MEM_OR_NULL'],
  ['bpf_task_release', release, 'VOID'],
  ['bpf_cgroup_acquire', acquire, 'PTR_TO_MEM_OR_NULL'],
  ['bpf_cgroup_release', release, 'VOID'],
];

/** The run-time functions of the kernel-object kfuncs, by kfunc name. */
export const OBJECT_KFUNC_FNS: ReadonlyMap<string, HelperDef> = new Map(FNS.map(([name, fn, ret], k): [string, HelperDef] =>
  [name, { id: OBJECT_KFUNC_ID_BASE + k, name: name.replace(/^bpf_/, ''), proto: { ret, args: ['ANYTHING'] }, fn }]));
