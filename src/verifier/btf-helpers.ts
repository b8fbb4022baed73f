/**
 * Helpers that return kernel-object pointers (PTR_TO_BTF_ID), whose return
 * value needs the kernel's BTF: bpf_get_current_task_btf (#158,
 * RET_PTR_TO_BTF_ID_TRUSTED to struct task_struct, GPL only). Which program
 * types get it and with which privileges is the helper catalog's (Linux 6.18
 * offers it from bpf_base_func_proto to CAP_PERFMON callers of most types).
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { requireGpl } from './call-helper.js';
import { kernelStruct } from './kernel-btf.js';
import { HELPERS, helperAvailable } from '../uapi/helpers.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';

export const GET_CURRENT_TASK_BTF = BPF_FUNC.get_current_task_btf;

/** check_helper_call for bpf_get_current_task_btf: r0 = a trusted pointer to the current task. */
export function currentTaskBtf(env: Verifier, i: number): number {
  const name = 'bpf_get_current_task_btf';
  if ((!env.privileged && HELPERS.get(GET_CURRENT_TASK_BTF)?.privileged) || env.rules.noHelpers || !helperAvailable(env.rules.name, GET_CURRENT_TASK_BTF, env.input.attachType))
    throw new Reject({
      errno: 'EINVAL',
      message: `program of this type cannot use helper ${name}#${GET_CURRENT_TASK_BTF}`,
      insn: i,
      rule: `${name} is not available to ${env.rules.name} programs`,
    });
  requireGpl(env, i, name);
  const task = kernelStruct(env, 'task_struct', i, `${name}#${GET_CURRENT_TASK_BTF} needs struct task_struct in the kernel BTF, which tsbpf's shipped subset lacks`);
  const regs = env.regs();
  for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  regs[0] = Reg.ptr('btf_id', { btfId: task.id, btfName: 'task_struct', btfFlags: 'trusted' });
  return i + 1;
}
