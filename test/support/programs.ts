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

/**
 * Assembly: count the run in the first lddw's map (an array of one u64),
 * then bpf_tail_call(ctx, the second lddw's prog_array, `slot`); r0 = 7 when
 * the tail call does not happen.
 */
export const countThenTailCall = (slot: number): string => `
    r6 = r1
    r7 = 0
    *(u32 *)(r10 -4) = r7
    r2 = r10
    r2 += -4
    r1 = 0 ll
    call 1
    if r0 == 0 goto +3
    r1 = *(u64 *)(r0 +0)
    r1 += 1
    *(u64 *)(r0 +0) = r1
    r1 = r6
    r2 = 0 ll
    r3 = ${slot}
    call 12
    r0 = 7
    exit`;
