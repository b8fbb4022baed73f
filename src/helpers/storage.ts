/**
 * The local storage helpers (kernel/bpf/bpf_task_storage.c,
 * bpf_cgrp_storage.c, bpf_inode_storage.c), one pattern for the three owners:
 * bpf_<owner>_storage_get(map, owner, value, flags) finds the owner's value
 * in its storage map, or with BPF_LOCAL_STORAGE_GET_F_CREATE makes it from
 * `value` (zeros when NULL); NULL for a NULL owner or unknown flags.
 * bpf_<owner>_storage_delete(map, owner): 0, -ENOENT without a value,
 * -EINVAL for a NULL owner. The owner is a kernel-model object (a
 * task_struct, a struct cgroup, a struct inode), named by its address; the
 * values live in the map (maps/local-storage.ts). The verifier has checked
 * that the map is of the helper's type (func-compat.ts) and the owner's BTF
 * type (helper-args.ts).
 *
 * The socket storage helpers take sockets, which the verifier does not
 * model (uapi/helpers.ts: unmodelled), so they are not registered.
 */
import type { ExecEnv, HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { err } from './env.js';
import { mapArg } from './maps.js';

/** BPF_LOCAL_STORAGE_GET_F_CREATE */
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1n;

function storageGet(env: ExecEnv, map: bigint, owner: bigint, value: bigint, flags: bigint): bigint {
  if (flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE || owner === 0n) return 0n;
  const m = mapArg(env, map);
  if (!m.storageGet) throw new TypeError(`a local storage helper on a ${m.type} map`);
  return BigInt(m.storageGet(Number(owner), Number(value), (flags & BPF_LOCAL_STORAGE_GET_F_CREATE) !== 0n));
}

function storageDelete(env: ExecEnv, map: bigint, owner: bigint): bigint {
  if (owner === 0n) return err('EINVAL');
  const m = mapArg(env, map);
  if (!m.storageDelete) throw new TypeError(`a local storage helper on a ${m.type} map`);
  return BigInt(m.storageDelete(Number(owner)));
}

export const storageHelpers: HelperDef[] = [
  helper(BPF_FUNC.task_storage_get, (env, r1, r2, r3, r4) => storageGet(env, r1, r2, r3, r4)),
  helper(BPF_FUNC.task_storage_delete, (env, r1, r2) => storageDelete(env, r1, r2)),
  helper(BPF_FUNC.cgrp_storage_get, (env, r1, r2, r3, r4) => storageGet(env, r1, r2, r3, r4)),
  helper(BPF_FUNC.cgrp_storage_delete, (env, r1, r2) => storageDelete(env, r1, r2)),
  helper(BPF_FUNC.inode_storage_get, (env, r1, r2, r3, r4) => storageGet(env, r1, r2, r3, r4)),
  helper(BPF_FUNC.inode_storage_delete, (env, r1, r2) => storageDelete(env, r1, r2)),
];
