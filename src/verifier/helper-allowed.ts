/**
 * The `allowed` callbacks of helper protos: where a helper that a program
 * type's get_func_proto offers may still not be called, because the kernel
 * can only run it safely from some attach points (check_helper_call's
 * "helper call is not allowed in probe").
 */
import type { HelperInfo } from '../uapi/helpers.js';
import type { Verifier } from './env.js';
import { isSleepableLsmHook } from './progtypes/lsm.js';

/** btf_allowlist_d_path (kernel/trace/bpf_trace.c): the functions whose fentry/fexit may call bpf_d_path. */
export const D_PATH_ALLOWLIST: ReadonlySet<string> = new Set([
  'security_file_permission', 'security_inode_getattr', 'security_file_open', 'security_path_truncate',
  'vfs_truncate', 'vfs_fallocate', 'dentry_open', 'vfs_getattr', 'filp_close',
]);

/**
 * Whether the program may call a helper with this `allowed` rule:
 * bpf_d_path_allowed (iterators, LSM programs on sleepable hooks, tracing
 * programs attached to a function of the allowlist) or
 * bpf_ima_inode_hash_allowed (LSM programs on sleepable hooks) or
 * bpf_sk_storage_tracing_allowed.
 */
export function helperAllowed(env: Verifier, rule: NonNullable<HelperInfo['allowed']>): boolean {
  const target = env.input.attachTo ?? '';
  if (rule === 'sk_storage_tracing') return skStorageTracingAllowed(env, target);
  const lsmSleepable = env.rules.name === 'lsm' && isSleepableLsmHook(target);
  if (rule === 'lsm_sleepable_hook') return lsmSleepable;
  if (env.rules.name === 'tracing' && env.input.attachType === 'trace_iter') return true;
  if (env.rules.name === 'lsm') return lsmSleepable;
  return D_PATH_ALLOWLIST.has(target);
}

/**
 * bpf_sk_storage_tracing_allowed, on the tracing protos of sk_storage_get/delete only (the other
 * program types' protos have no `allowed`): iterators and raw tracepoints may call them, fentry and
 * fexit unless they trace a bpf_sk_storage* function themselves, nothing else (fmod_ret).
 */
function skStorageTracingAllowed(env: Verifier, target: string): boolean {
  if (env.rules.name !== 'tracing') return true;
  const at = env.input.attachType ?? '';
  if (at === 'trace_iter' || at === 'trace_raw_tp') return true;
  if (at === 'trace_fentry' || at === 'trace_fexit') return !target.startsWith('bpf_sk_storage');
  return false;
}
