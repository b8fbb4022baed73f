/**
 * The cpumask kfuncs (kernel/bpf/cpumask.c): a program allocates a `struct bpf_cpumask`
 * (a `struct cpumask` with a reference count) with bpf_cpumask_create, changes and queries
 * it, stores it as a kptr (bpf_kptr_xchg; rcu_protected_types includes bpf_cpumask, so a
 * kptr loaded in an RCU read section is MEM_RCU) and releases it. The read-only queries
 * take a `const struct cpumask *`, which a `struct bpf_cpumask *` is at offset 0
 * (btf_struct_ids_match), and so is a task's `cpus_ptr`.
 *
 * Flags as cpumask_kfunc_btf_ids declares them: create KF_ACQUIRE | KF_RET_NULL, release
 * KF_RELEASE, acquire KF_ACQUIRE | KF_TRUSTED_ARGS, every other one KF_RCU (its pointer
 * arguments trusted or RCU-protected, never NULL). cpumask_kfunc_init registers the set for
 * BPF_PROG_TYPE_TRACING, _STRUCT_OPS and _SYSCALL only.
 *
 * tsbpf judges them and does not run them: a verified program that calls one is refused
 * at load (ENOTSUPP naming the kfunc; runtime 'none').
 */
import type { KfuncArg, KfuncHook, KfuncSig } from './kfuncs.js';

const MASK: KfuncArg = { struct: 'bpf_cpumask' };
const CPUMASK: KfuncArg = { struct: 'cpumask' };
const RCU_QUERY = (n: 1 | 2): KfuncSig => ({ args: n === 1 ? [CPUMASK] : [CPUMASK, CPUMASK], ret: 'scalar', rcu: true });

/** cpumask_kfunc_init's registrations, as hooks. */
export const CPUMASK_HOOKS: readonly KfuncHook[] = ['tracing', 'struct_ops', 'syscall'];

/** Each cpumask kfunc's prototype and flags (kernel/bpf/cpumask.c), by name. */
export const CPUMASK_KFUNCS: ReadonlyArray<[string, KfuncSig]> = [
  ['bpf_cpumask_create', { args: [], ret: MASK, acquire: true, retNull: true }],
  ['bpf_cpumask_release', { args: [MASK], ret: 'void', release: true }],
  ['bpf_cpumask_acquire', { args: [MASK], ret: MASK, acquire: true, trustedArgs: true }],
  ['bpf_cpumask_first', RCU_QUERY(1)],
  ['bpf_cpumask_first_zero', RCU_QUERY(1)],
  ['bpf_cpumask_first_and', RCU_QUERY(2)],
  ['bpf_cpumask_set_cpu', { args: ['scalar', MASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_clear_cpu', { args: ['scalar', MASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_test_cpu', { args: ['scalar', CPUMASK], ret: 'scalar', rcu: true }],
  ['bpf_cpumask_test_and_set_cpu', { args: ['scalar', MASK], ret: 'scalar', rcu: true }],
  ['bpf_cpumask_test_and_clear_cpu', { args: ['scalar', MASK], ret: 'scalar', rcu: true }],
  ['bpf_cpumask_setall', { args: [MASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_clear', { args: [MASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_and', { args: [MASK, CPUMASK, CPUMASK], ret: 'scalar', rcu: true }],
  ['bpf_cpumask_or', { args: [MASK, CPUMASK, CPUMASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_xor', { args: [MASK, CPUMASK, CPUMASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_equal', RCU_QUERY(2)],
  ['bpf_cpumask_intersects', RCU_QUERY(2)],
  ['bpf_cpumask_subset', RCU_QUERY(2)],
  ['bpf_cpumask_empty', RCU_QUERY(1)],
  ['bpf_cpumask_full', RCU_QUERY(1)],
  ['bpf_cpumask_copy', { args: [MASK, CPUMASK], ret: 'void', rcu: true }],
  ['bpf_cpumask_any_distribute', RCU_QUERY(1)],
  ['bpf_cpumask_any_and_distribute', RCU_QUERY(2)],
  ['bpf_cpumask_weight', RCU_QUERY(1)],
];
