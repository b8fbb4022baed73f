/** Set-up of raw programs the runtime tests share. */
import { OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../../src/isa/index.js';

/**
 * Point the n-th lddw of a program at the n-th map id given (BPF_PSEUDO_MAP_FD,
 * as the kernel takes an fd); lddws past the ids given stay as they are.
 */
export function mapRefs(insns: Insn[], ...ids: number[]): Insn[] {
  let n = 0;
  for (let i = 0; i < insns.length; i++) {
    if (insns[i]!.code === OP_LDDW) {
      if (n < ids.length) {
        insns[i]!.src = BPF_PSEUDO_MAP_FD;
        insns[i]!.imm = ids[n]!;
      }
      n++;
      i++;
    }
  }
  return insns;
}
