/**
 * The "current task" helpers, answered from the runtime's configurable
 * identity (the host process by default): bpf_get_current_pid_tgid
 * (tgid << 32 | pid), bpf_get_current_uid_gid (gid << 32 | uid),
 * bpf_get_current_comm (strscpy_pad into the buffer), plus
 * bpf_get_smp_processor_id and bpf_get_numa_node_id.
 */
import type { HelperDef } from './types.js';
import { helper } from './def.js';
import { err, inSpace, runOf, u32 } from './env.js';

export const taskHelpers: HelperDef[] = [
  helper(14, 'get_current_pid_tgid', 'INTEGER', [], (env) => {
    const t = runOf(env).host.task;
    return (BigInt(t.tgid >>> 0) << 32n) | BigInt(t.pid >>> 0);
  }),
  helper(15, 'get_current_uid_gid', 'INTEGER', [], (env) => {
    const t = runOf(env).host.task;
    return (BigInt(t.gid >>> 0) << 32n) | BigInt(t.uid >>> 0);
  }),
  helper(16, 'get_current_comm', 'INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE'], (env, r1, r2) => {
    const size = u32(r2);
    if (!inSpace(env, r1, size)) return err('EFAULT');
    const dst = env.space.bytes(Number(r1), size);
    // strscpy_pad: at most size-1 bytes of the name, then NUL padding to the end.
    const name = new TextEncoder().encode(runOf(env).host.task.comm).subarray(0, 15);
    dst.fill(0);
    if (size > 0) dst.set(name.subarray(0, size - 1));
    return 0n;
  }),
  helper(8, 'get_smp_processor_id', 'INTEGER', [], (env) => BigInt(env.cpu >>> 0)),
  helper(42, 'get_numa_node_id', 'INTEGER', [], () => 0n),
];
