/**
 * BPF_PROG_TYPE_LSM (`SEC("lsm/<hook>")`, `lsm.s/<hook>`, `lsm_cgroup/<hook>`):
 * a program attached to one of the kernel's `bpf_lsm_<hook>` functions (one
 * per LSM_HOOK of include/linux/lsm_hook_defs.h). Its context is the hook's
 * arguments, as for fentry (btf_ctx_access); what differs follows
 * kernel/bpf/bpf_lsm.c and check_return_code:
 *
 * - bpf_lsm_verify_prog: a GPL-compatible license, a hook that is not on the
 *   disabled list, and a target that is a hook at all;
 * - sleepable (`lsm.s/`) only on the hooks of sleepable_lsm_hooks
 *   (bpf_check_attach_target: "%s is not sleepable"); never lsm_cgroup;
 * - arguments are trusted pointers except on the hooks that run while the
 *   object is being freed (untrusted_lsm_hooks, bpf_lsm_is_trusted);
 * - BPF_LSM_MAC may read the hook's return value in the slot after the last
 *   argument (is_retval: a 32-bit value in the hook's range); a void hook has
 *   none to read;
 * - return value: BPF_LSM_MAC on an int hook returns 0 or a negative errno
 *   ([-MAX_ERRNO, 0], checked on the low 32 bits), on the hooks of
 *   bool_lsm_hooks 0 or 1, and on a void hook anything (R0 is not even read:
 *   check_return_code returns first); lsm_cgroup returns 0 or 1, and exactly 1
 *   on a void hook (it cannot change the hook's result).
 */
import type { ProgTypeRules } from './index.js';
import { tracingRules, type TracingTarget } from './tracing.js';

/** MAX_ERRNO: the most negative errno a hook may return. */
export const MAX_ERRNO = 4095;

/** bpf_lsm_disabled_hooks: hooks whose semantics a BPF program cannot keep (the config-dependent ones included). */
const DISABLED_HOOKS: ReadonlySet<string> = new Set([
  'vm_enough_memory', 'inode_need_killpriv', 'inode_getsecurity', 'inode_listsecurity', 'inode_copy_up_xattr',
  'getselfattr', 'getprocattr', 'setprocattr', 'key_getsecurity', 'audit_rule_match', 'xfrm_decode_session', 'ismaclabel',
]);

/**
 * Functions of kernel/bpf/bpf_lsm.c named `bpf_lsm_*` that are not hooks (they are in the
 * kernel's BTF, but not in bpf_lsm_hooks): attaching to one is "points to wrong type name".
 */
const NOT_HOOKS: ReadonlySet<string> = new Set([
  'verify_prog', 'find_cgroup_shim', 'func_proto', 'get_retval_range', 'is_sleepable_hook', 'is_trusted',
  'hook_returns_errno', 'has_d_inode_locked', 'init',
]);

/** sleepable_lsm_hooks: the hooks called where a program may sleep (pagefaults enabled). */
const SLEEPABLE_HOOKS: ReadonlySet<string> = new Set([
  'bpf', 'bpf_map', 'bpf_map_create', 'bpf_map_free', 'bpf_prog', 'bpf_prog_load', 'bpf_token_create', 'bpf_token_free',
  'bpf_token_cmd', 'bpf_token_capable', 'bprm_check_security', 'bprm_committed_creds', 'bprm_committing_creds',
  'bprm_creds_for_exec', 'bprm_creds_from_file', 'capget', 'capset', 'cred_prepare', 'file_ioctl', 'file_lock', 'file_open',
  'file_post_open', 'file_receive', 'inode_create', 'inode_free_security', 'inode_getattr', 'inode_getxattr', 'inode_mknod',
  'inode_need_killpriv', 'inode_post_setxattr', 'inode_readlink', 'inode_rename', 'inode_rmdir', 'inode_setattr',
  'inode_setxattr', 'inode_symlink', 'inode_unlink', 'kernel_module_request', 'kernel_read_file', 'kernfs_init_security',
  'path_unlink', 'path_mkdir', 'path_rmdir', 'path_truncate', 'path_symlink', 'path_link', 'path_rename', 'path_chmod',
  'path_chown', 'mmap_file', 'netlink_send', 'path_notify', 'release_secctx', 'sb_alloc_security', 'sb_eat_lsm_opts',
  'sb_kern_mount', 'sb_mount', 'sb_remount', 'sb_set_mnt_opts', 'sb_show_options', 'sb_statfs', 'sb_umount', 'settime',
  'socket_accept', 'socket_bind', 'socket_connect', 'socket_create', 'socket_getpeername', 'socket_getpeersec_dgram',
  'socket_getsockname', 'socket_getsockopt', 'socket_listen', 'socket_post_create', 'socket_recvmsg', 'socket_sendmsg',
  'socket_shutdown', 'socket_socketpair', 'syslog', 'task_alloc', 'current_getsecid_subj', 'task_getsecid_obj', 'task_prctl',
  'task_setscheduler', 'userns_create',
]);

/** bpf_lsm_is_sleepable_hook: a hook a sleepable program may attach to (the hook name, without bpf_lsm_). */
export const isSleepableLsmHook = (hook: string): boolean => SLEEPABLE_HOOKS.has(hook);

/** untrusted_lsm_hooks: hooks whose arguments are being freed, so their pointers are not trusted. */
const UNTRUSTED_HOOKS: ReadonlySet<string> = new Set([
  'bpf_map_free', 'bpf_prog_free', 'file_alloc_security', 'file_free_security', 'sk_alloc_security', 'sk_free_security', 'task_free',
]);

/** bool_lsm_hooks: hooks that return 0 or 1 rather than 0 or an errno. */
const BOOL_HOOKS: ReadonlySet<string> = new Set(['xfrm_state_pol_flow_match', 'audit_rule_known', 'inode_xattr_skipcap']);

export type LsmAttach = 'lsm_mac' | 'lsm_cgroup';

/** The kernel function an LSM program attaches to (libbpf prefixes the section's hook name so). */
export const lsmFunc = (hook: string): string => `bpf_lsm_${hook}`;

/**
 * The checks of an LSM target in the kernel's order, the kernel's message when one fails:
 * bpf_check_attach_target's sleepable check, then bpf_lsm_verify_prog's license, disabled
 * hook and not-a-hook checks.
 */
export function lsmHookProblem(hook: string, o: { sleepable: boolean; gpl: boolean; btfId: number }): string | undefined {
  if (o.sleepable && !SLEEPABLE_HOOKS.has(hook)) return `${lsmFunc(hook)} is not sleepable`;
  if (!o.gpl) return 'LSM programs must have a GPL compatible license';
  if (DISABLED_HOOKS.has(hook)) return `attach_btf_id ${o.btfId} points to disabled hook ${lsmFunc(hook)}`;
  if (NOT_HOOKS.has(hook)) return `attach_btf_id ${o.btfId} points to wrong type name ${lsmFunc(hook)}`;
  return undefined;
}

/** The rules of an LSM program whose hook `t` (found as `bpf_lsm_<hook>`) passed lsmHookProblem. */
export function lsmRules(t: TracingTarget, hook: string, attach: LsmAttach): ProgTypeRules {
  const base = tracingRules({ ...t, ...(UNTRUSTED_HOOKS.has(hook) ? { untrusted: true } : {}) });
  const voidHook = t.ret === undefined;
  const rules: ProgTypeRules = { ...base, name: 'lsm' };
  delete rules.retRange;
  if (attach === 'lsm_cgroup') rules.retRange = voidHook ? [1, 1] : [0, 1];
  else if (voidHook) rules.retUnchecked = true;
  else {
    rules.retRange = BOOL_HOOKS.has(hook) ? [0, 1] : [-MAX_ERRNO, 0];
    rules.retRange32 = true;
    // is_retval: reading the hook's return value gives a 32-bit number in that range
    rules.retvalRead = rules.retRange;
  }
  return rules;
}
