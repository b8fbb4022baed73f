/**
 * The "current task" helpers, answered from the runtime's configurable
 * identity (the host process by default): bpf_get_current_pid_tgid
 * (tgid << 32 | pid), bpf_get_current_uid_gid (gid << 32 | uid),
 * bpf_get_current_comm (strscpy_pad into the buffer), plus
 * bpf_get_smp_processor_id and bpf_get_numa_node_id.
 */
import { BPF_FUNC } from '../uapi/helper-ids.js';
import type { HelperDef } from '../vm/helper-abi.js';
import { helper } from './def.js';
import { err, inSpace, runOf, u32 } from './env.js';

export const taskHelpers: HelperDef[] = [
  helper(BPF_FUNC.get_current_pid_tgid, (env) => {
    const t = runOf(env).host.task;
    return (BigInt(t.tgid >>> 0) << 32n) | BigInt(t.pid >>> 0);
  }),
  helper(BPF_FUNC.get_current_uid_gid, (env) => {
    const t = runOf(env).host.task;
    return (BigInt(t.gid >>> 0) << 32n) | BigInt(t.uid >>> 0);
  }),
  helper(BPF_FUNC.get_current_comm, (env, r1, r2) => {
    const size = u32(r2);
    if (!inSpace(env, r1, size)) return err('EFAULT');
    const dst = env.space.bytes(Number(r1), size);
    // strscpy_pad: at most size-1 bytes of the name, then NUL padding to the end.
    const name = new TextEncoder().encode(runOf(env).host.task.comm).subarray(0, 15);
    dst.fill(0);
    if (size > 0) dst.set(name.subarray(0, size - 1));
    return 0n;
  }),
  helper(BPF_FUNC.get_smp_processor_id, (env) => BigInt(env.cpu >>> 0)),
  helper(BPF_FUNC.get_numa_node_id, () => 0n),
];
