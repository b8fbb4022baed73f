/**
 * PTR_TO_FLOW_KEYS: the `struct bpf_flow_keys` a flow dissector program
 * fills, reached through `__sk_buff.flow_keys` (progtypes/flow-dissector.ts).
 * The kernel's check_mem_access: any read or write inside the struct
 * (check_flow_keys_access: "invalid access to flow keys off=N size=M"), a
 * read gives an unknown scalar; an unprivileged program could not store a
 * pointer there (flow dissectors need CAP_BPF anyway). The pointer moves by
 * known amounts only (adjust_ptr_min_max_vals, alu.ts), takes no atomics
 * (check_atomic, ldst.ts) and is no helper's memory argument.
 */
import { BPF_FLOW_KEYS } from '../uapi/ctx.js';
import type { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { loadedScalar } from './ldst.js';

export function flowKeysAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, val: Reg | undefined, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  if (write && val?.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${env.insns[i]!.src} leaks addr into flow keys`,
    insn: i,
    regs: [env.insns[i]!.src],
  });
  const at = base.off + off;
  if (at < 0 || at + size > BPF_FLOW_KEYS.size) throw new Reject({
    errno: 'EACCES',
    message: `invalid access to flow keys off=${at} size=${size}`,
    insn: i,
    regs: [ptrReg],
    hint: `struct bpf_flow_keys is ${BPF_FLOW_KEYS.size} bytes: access it within [0, ${BPF_FLOW_KEYS.size})`,
    rule: 'an access outside struct bpf_flow_keys',
  });
  return write ? undefined : loadedScalar(size, signExtend);
}
