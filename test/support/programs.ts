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

/** Assembly: r0 = bpf_map_lookup_elem(the program's first lddw's map, &(u32)0); the caller's code checks NULL. */
export const LOOKUP_KEY0 = `
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    r1 = 0 ll
    call 1`;
