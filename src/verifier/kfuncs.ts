/**
 * Kernel functions (kfuncs) a program may call with BPF_PSEUDO_KFUNC_CALL,
 * the ones tsbpf implements and what the verifier knows of them.
 *
 * A kfunc is named by its BTF id in the kernel's BTF; libbpf resolves the
 * `extern ... __ksym` declaration by name, and so does tsbpf (the object's
 * relocation gives the name). tsbpf implements the kfuncs whose effect is
 * nil in its runtime yet whose rules the verifier must enforce:
 * bpf_rcu_read_lock/unlock (tsbpf frees nothing under a program's feet, so
 * an RCU read section has nothing to hold back; Linux still insists sections
 * are balanced, not nested, and free of sleepable calls) and
 * bpf_preempt_disable/enable (a tsbpf program is never preempted by another
 * on its thread; Linux counts the nesting and wants it back to 0 at exit).
 * Their BTF signature is `void (void)`. The runtime runs them as no-ops.
 *
 * The kfuncs that take and return reference-counted kernel objects
 * (bpf_task_acquire/release, bpf_task_from_pid, bpf_cgroup_acquire/release)
 * are judged as Linux judges them (kfunc-args.ts: trusted and RCU
 * arguments, references acquired and released), so that a tool using them
 * gets Linux's verdict, and run against the test kit's kernel model (runtime
 * 'object': helpers/object-kfuncs.ts; without a model there are no tasks,
 * and bpf_task_from_pid finds none).
 *
 * bpf_obj_new_impl, bpf_obj_drop_impl and bpf_refcount_acquire_impl (program-allocated
 * objects of the program's own struct types) are judged as Linux judges them (alloc-obj.ts), and
 * so are the list and rbtree kfuncs (bpf_list_push_front_impl/_back_impl, bpf_list_pop_front/_back,
 * bpf_list_front/_back, bpf_rbtree_*: graph.ts); tsbpf has no allocator for them and refuses to run a program calling them.
 *
 * The dynptr kfuncs (bpf_dynptr_from_skb/xdp, _slice, _slice_rdwr, _adjust, _is_null,
 * _is_rdonly, _size, _clone) are judged as Linux judges them (dynptr-kfuncs.ts).
 *
 * The open-coded iterators' kfuncs (bpf_iter_num_*, bpf_iter_bits_*; ITERS below) are judged
 * as Linux judges them (iter.ts) and run (runtime 'iter': helpers/iter-kfuncs.ts).
 *
 * Other kfuncs Linux offers to every program type (kernel/bpf/helpers.c,
 * common_btf_ids and generic_btf_ids) are refused as not supported by tsbpf;
 * a kernel function that is no kfunc at all is refused as Linux refuses it.
 */
import { DYNPTR_KFUNCS } from './dynptr-kfuncs.js';
import { CPUMASK_KFUNCS, CPUMASK_HOOKS } from './kfuncs-cpumask.js';
import { CAST_KFUNCS } from './kfuncs-cast.js';
import { TCP_CA_KFUNCS, TCP_CA_HOOKS } from './kfuncs-tcp-ca.js';
import * as op from '../isa/opcodes.js';
import type { Verifier } from './env.js';

export type KfuncEffect = 'rcu_lock' | 'rcu_unlock' | 'preempt_disable' | 'preempt_enable' | 'call' | 'iter_new' | 'iter_next' | 'iter_destroy' | 'dynptr' | 'cast' | 'throw' | 'alloc' | 'graph';

/**
 * An open-coded iterator (struct bpf_iter_<kind>, include/linux/bpf.h and kernel/bpf/helpers.c):
 * its state lives in `slots` 8-byte stack slots of the program, which bpf_iter_<kind>_new
 * initialises (KF_ITER_NEW), bpf_iter_<kind>_next steps (KF_ITER_NEXT | KF_RET_NULL: NULL once
 * drained, and NULL ever after) and bpf_iter_<kind>_destroy releases (KF_ITER_DESTROY); the
 * verifier's side is iter.ts. `next` is what _next returns: an `int *` into the iterator's
 * state (PTR_TO_MEM of 4 read-only bytes), or a kernel object.
 */
export interface IterKind {
  kind: string;
  slots: number;
  /**
   * _new's arguments after the iterator (the kernel's BTF prototype): scalars, ignored (`__ign`),
   * or kernel objects (`__nullable`: NULL allowed)
   */
  newArgs: readonly ('scalar' | 'ignore' | { struct: string; nullable?: boolean })[];
  /** _new's flags: KF_TRUSTED_ARGS, KF_RCU (its object arguments), KF_RCU_PROTECTED (the iterator) */
  trustedArgs?: boolean;
  rcu?: boolean;
  rcuProtected?: boolean;
  /** what _next returns: an `int *` of `mem` bytes into the iterator, or a kernel object */
  next: { mem: number } | { struct: string };
  /** check_css_task_iter_allowlist: only lsm, iter/ tracing and sleepable programs */
  cssTaskAllowlist?: boolean;
  /** whether tsbpf runs it ('iter': helpers/iter-kfuncs.ts) or only judges it ('none': refused at load) */
  runtime: 'iter' | 'none';
}

const TASK_ARG = { struct: 'task_struct' };
const CSS_ARG = { struct: 'cgroup_subsys_state' };

/** The iterators of the kernel's common_btf_ids (kernel/bpf/helpers.c): every program type may use them. */
const ITERS: ReadonlyMap<string, IterKind> = new Map<string, IterKind>([
  // bpf_iter_num_new(it, int start, int end): the integers [start, end); next gives int *
  ['num', { kind: 'num', slots: 1, newArgs: ['scalar', 'scalar'], next: { mem: 4 }, runtime: 'iter' }],
  // bpf_iter_bits_new(it, const u64 *unsafe_ptr__ign, u32 nr_words): the set bits' indices; next gives int *
  ['bits', { kind: 'bits', slots: 2, newArgs: ['ignore', 'scalar'], next: { mem: 4 }, runtime: 'iter' }],
  // kernel objects, which tsbpf has none of: judged, not run
  // bpf_iter_task_new(it, struct task_struct *task__nullable, unsigned int flags)
  ['task', { kind: 'task', slots: 3, newArgs: [{ ...TASK_ARG, nullable: true }, 'scalar'], trustedArgs: true, rcuProtected: true, next: TASK_ARG, runtime: 'none' }],
  // bpf_iter_task_vma_new(it, struct task_struct *task, u64 addr)
  ['task_vma', { kind: 'task_vma', slots: 1, newArgs: [TASK_ARG, 'scalar'], rcu: true, next: { struct: 'vm_area_struct' }, runtime: 'none' }],
  // bpf_iter_css_task_new(it, struct cgroup_subsys_state *css, unsigned int flags)
  ['css_task', { kind: 'css_task', slots: 1, newArgs: [CSS_ARG, 'scalar'], trustedArgs: true, next: TASK_ARG, cssTaskAllowlist: true, runtime: 'none' }],
  // bpf_iter_css_new(it, struct cgroup_subsys_state *start, unsigned int flags)
  ['css', { kind: 'css', slots: 3, newArgs: [CSS_ARG, 'scalar'], trustedArgs: true, rcuProtected: true, next: CSS_ARG, runtime: 'none' }],
]);

/**
 * An argument: a scalar, a pointer to the named kernel struct (a PTR_TO_BTF_ID; `nullable`: the
 * kernel's `__nullable` suffix, NULL allowed), memory whose size is the next argument (`__sz`:
 * KF_ARG_PTR_TO_MEM_SIZE; the size's own entry is 'ignore'), or one checked elsewhere (an
 * iterator, `__ign`).
 */
export type KfuncArg = 'scalar' | 'ignore' | 'mem_size' | { struct: string; nullable?: boolean };

/**
 * What the verifier needs of a kfunc that takes or returns kernel objects:
 * its BTF prototype (arguments, return) and its BTF_ID_FLAGS (KF_ACQUIRE,
 * KF_RELEASE, KF_RET_NULL, KF_RCU, KF_TRUSTED_ARGS; kernel/bpf/helpers.c).
 */
export interface KfuncSig {
  args: readonly KfuncArg[];
  ret: 'void' | 'scalar' | { struct: string };
  acquire?: boolean;
  release?: boolean;
  retNull?: boolean;
  rcu?: boolean;
  trustedArgs?: boolean;
  /** KF_SLEEPABLE: only a sleepable program may call it, outside RCU and non-preemptible sections */
  sleepable?: boolean;
}

export interface Kfunc {
  name: string;
  effect: KfuncEffect;
  /**
   * what the call does at run time: nothing (the loader replaces it with a no-op once
   * verified), an iterator's or a kernel object's run-time function (helpers/kfunc-fns.ts),
   * or nothing tsbpf can do: the verifier judges the program as Linux does, the loader
   * refuses to run it (ENOTSUPP naming the kfunc)
   */
  runtime: 'nop' | 'none' | 'iter' | 'object' | 'dynptr';
  sig?: KfuncSig;
  /** the iterator an iter_new/iter_next/iter_destroy kfunc works on */
  iter?: IterKind;
  /** the hooks Linux registers it for (register_btf_kfunc_id_set, by kfuncHook); all when absent */
  hooks?: readonly KfuncHook[];
}

/** The kernel's enum btf_kfunc_hook: kfunc sets are registered per hook, not per program type. */
export type KfuncHook = 'common' | 'xdp' | 'tc' | 'struct_ops' | 'tracing' | 'syscall' | 'cgroup' | 'sched_act' | 'sk_skb' | 'socket_filter' | 'lwt' | 'netfilter' | 'kprobe';

/**
 * bpf_prog_type_to_kfunc_hook (kernel/bpf/btf.c): the hook whose kfuncs a
 * program of `type` may call. A set registered for BPF_PROG_TYPE_TRACING is
 * thereby open to tracepoint, perf_event and lsm programs too, one for
 * CGROUP_SKB to every cgroup program type; other types have none.
 */
export function kfuncHook(type: string): KfuncHook | undefined {
  switch (type) {
    case 'unspec': return 'common';
    case 'xdp': return 'xdp';
    case 'sched_cls': return 'tc';
    case 'struct_ops': return 'struct_ops';
    case 'tracing': case 'tracepoint': case 'perf_event': case 'lsm': return 'tracing';
    case 'syscall': return 'syscall';
    case 'cgroup_skb': case 'cgroup_sock': case 'cgroup_device': case 'cgroup_sock_addr': case 'cgroup_sockopt': case 'cgroup_sysctl': return 'cgroup';
    case 'sched_act': return 'sched_act';
    case 'sk_skb': return 'sk_skb';
    case 'socket_filter': return 'socket_filter';
    case 'lwt_in': case 'lwt_out': case 'lwt_xmit': case 'lwt_seg6local': return 'lwt';
    case 'netfilter': return 'netfilter';
    case 'kprobe': return 'kprobe';
    default: return undefined;
  }
}

/** bpf_rbtree_add_impl: the kfunc that calls its callback (`less`) synchronously (is_sync_callback_calling_kfunc). */
export const RBTREE_ADD = 'bpf_rbtree_add_impl';

/** is_sync_callback_calling_kfunc for the call at `i`: the CFG's prune points and the walk's forced checkpoints ask it. */
export function callsKfuncCallback(env: Verifier, i: number): boolean {
  const ins = env.insns[i]!;
  return ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL && env.input.kfuncOfInsn?.(i) === RBTREE_ADD;
}

/** The list and rbtree kfuncs graph.ts judges. */
const GRAPH_KFUNCS: readonly string[] = [
  'bpf_list_push_front_impl', 'bpf_list_push_back_impl', 'bpf_list_pop_front', 'bpf_list_pop_back',
  RBTREE_ADD, 'bpf_rbtree_remove', 'bpf_rbtree_first',
  // Linux 6.16's peeks and tree walks
  'bpf_list_front', 'bpf_list_back', 'bpf_rbtree_root', 'bpf_rbtree_left', 'bpf_rbtree_right',
];

/** generic_kfunc_set's registrations (kfunc_init in kernel/bpf/helpers.c), as hooks. */
const GENERIC: readonly KfuncHook[] = ['tracing', 'tc', 'xdp', 'struct_ops', 'syscall', 'cgroup'];
/** bpf_kfunc_set_skb's and bpf_kfunc_set_xdp's registrations (bpf_kfunc_init in net/core/filter.c), as hooks. */
const FROM_SKB_HOOKS: readonly KfuncHook[] = ['tc', 'sched_act', 'sk_skb', 'socket_filter', 'cgroup', 'lwt', 'netfilter', 'tracing'];
const FROM_XDP_HOOKS: readonly KfuncHook[] = ['xdp'];
const TASK = { struct: 'task_struct' };
const CGROUP = { struct: 'cgroup' };

export const KFUNCS: ReadonlyMap<string, Kfunc> = new Map<string, Kfunc>([
  ...([
    ['bpf_rcu_read_lock', 'rcu_lock'],
    ['bpf_rcu_read_unlock', 'rcu_unlock'],
    ['bpf_preempt_disable', 'preempt_disable'],
    ['bpf_preempt_enable', 'preempt_enable'],
  ] as Array<[string, KfuncEffect]>).map(([name, effect]): [string, Kfunc] => [name, { name, effect, runtime: 'nop' }]),
  // reference-counted kernel objects (generic_btf_ids): tsbpf has no tasks or cgroups to count
  ...([
    ['bpf_task_acquire', { args: [TASK], ret: TASK, acquire: true, rcu: true, retNull: true }],
    ['bpf_task_release', { args: [TASK], ret: 'void', release: true }],
    ['bpf_task_from_pid', { args: ['scalar'], ret: TASK, acquire: true, retNull: true }],
    ['bpf_cgroup_acquire', { args: [CGROUP], ret: CGROUP, acquire: true, rcu: true, retNull: true }],
    ['bpf_cgroup_release', { args: [CGROUP], ret: 'void', release: true }],
  ] as Array<[string, KfuncSig]>).map(([name, sig]): [string, Kfunc] => [name, { name, effect: 'call', runtime: 'object', sig, hooks: GENERIC }]),
  // the other cgroup kfuncs of generic_btf_ids: judged, not run (the kernel model has no cgroup objects)
  ...([
    ['bpf_cgroup_ancestor', { args: [CGROUP, 'scalar'], ret: CGROUP, acquire: true, rcu: true, retNull: true }],
    ['bpf_cgroup_from_id', { args: ['scalar'], ret: CGROUP, acquire: true, retNull: true }],
    ['bpf_task_under_cgroup', { args: [TASK, CGROUP], ret: 'scalar', rcu: true }],
    ['bpf_task_get_cgroup1', { args: [TASK, 'scalar'], ret: CGROUP, acquire: true, rcu: true, retNull: true }],
  ] as Array<[string, KfuncSig]>).map(([name, sig]): [string, Kfunc] => [name, { name, effect: 'call', runtime: 'none', sig, hooks: GENERIC }]),
  // bpf_copy_from_user_str(void *dst, u32 dst__sz, const void __user *unsafe_ptr__ign, u64 flags),
  // KF_SLEEPABLE, of common_btf_ids: judged, not run
  ['bpf_copy_from_user_str', { name: 'bpf_copy_from_user_str', effect: 'call', runtime: 'none', sig: { args: ['mem_size', 'ignore', 'ignore', 'scalar'], ret: 'scalar', sleepable: true } }],
  // casts (kfuncs-cast.ts): judged, not run (tsbpf's contexts are not the kernel's structs)
  ...CAST_KFUNCS.map((name): [string, Kfunc] => [name, { name, effect: 'cast', runtime: 'none' }]),
  // cpumasks (kfuncs-cpumask.ts): judged, not run
  ...CPUMASK_KFUNCS.map(([name, sig]): [string, Kfunc] => [name, { name, effect: 'call', runtime: 'none', sig, hooks: CPUMASK_HOOKS }]),
  // congestion control building blocks for struct_ops programs (kfuncs-tcp-ca.ts): judged, not run
  ...TCP_CA_KFUNCS.map(([name, sig]): [string, Kfunc] => [name, { name, effect: 'call', runtime: 'none', sig, hooks: TCP_CA_HOOKS }]),
  // open-coded iterators (iter.ts), run by the runtime's iterator calls (runtime/iter-kfuncs.ts)
  ...[...ITERS.values()].flatMap((iter) => (['new', 'next', 'destroy'] as const).map((op): [string, Kfunc] => {
    const name = `bpf_iter_${iter.kind}_${op}`;
    return [name, { name, effect: `iter_${op}`, runtime: iter.runtime, iter }];
  })),
  // bpf_throw (throw.ts): judged as Linux judges it; tsbpf does not unwind, so the loader refuses to run it
  ['bpf_throw', { name: 'bpf_throw', effect: 'throw', runtime: 'none', hooks: GENERIC }],
  // program-allocated objects (alloc-obj.ts: it imports this table, so the names live here): judged;
  // tsbpf has no allocator for them, so not run
  ...['bpf_obj_new_impl', 'bpf_obj_drop_impl', 'bpf_refcount_acquire_impl'].map((name): [string, Kfunc] => [name, { name, effect: 'alloc', runtime: 'none', hooks: GENERIC }]),
  // the program's linked lists and rbtrees (graph.ts): judged; not run (no allocator)
  ...GRAPH_KFUNCS.map((name): [string, Kfunc] => [name, { name, effect: 'graph', runtime: 'none', hooks: GENERIC }]),
  // dynptrs (dynptr-kfuncs.ts), run by the runtime's dynptr calls (helpers/dynptr.ts)
  ...DYNPTR_KFUNCS.map((name): [string, Kfunc] => [name, {
    name, effect: 'dynptr', runtime: 'dynptr',
    ...(name === 'bpf_dynptr_from_skb' ? { hooks: FROM_SKB_HOOKS } : name === 'bpf_dynptr_from_xdp' ? { hooks: FROM_XDP_HOOKS } : {}),
  }]),
]);

/** kfuncs Linux registers for all (or most) program types that tsbpf does not implement. */
export const LINUX_ONLY_KFUNCS: ReadonlySet<string> = new Set(
  ('bpf_percpu_obj_new_impl bpf_percpu_obj_drop_impl ' +
    'bpf_wq_init bpf_wq_set_callback_impl bpf_wq_start').split(' '),
);
