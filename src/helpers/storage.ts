/**
 * The local storage helpers (kernel/bpf/bpf_task_storage.c):
 * bpf_task_storage_get(map, task, value, flags) finds the task's value in a
 * task storage map, or with BPF_LOCAL_STORAGE_GET_F_CREATE makes it from
 * `value` (zeros when NULL); NULL for a NULL task or unknown flags.
 * bpf_task_storage_delete(map, task): 0, -ENOENT without a value, -EINVAL
 * for a NULL task. The values live in the map (maps/local-storage.ts).
 *
 * The inode, socket and cgroup storage helpers take kernel objects the
 * verifier does not type yet (uapi/helpers.ts: unmodelled), so no program
 * reaches them and they are not registered.
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
];
