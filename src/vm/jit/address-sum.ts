/**
 * Addresses computed in 32-bit arithmetic. clang's idiom for `p[i]` is
 * `r2 = r6; r2 += r1; r3 = *(u8 *)(r2 + 0)`; compiled as written, the
 * access wraps the i64 sum to i32 and V8 then zero-extends the wrapped value
 * before every access (a `movl r, r` in the loop, since it cannot know the
 * upper half of a truncated i64 is zero). When the register the access goes
 * through was defined in the same basic block as `rS (+ rX) (+ imm)` and none
 * of those registers has been written since, the address is emitted as
 * `wrap(rS) + wrap(rX) + imm` in i32 instead: V8 knows an i32.add result is
 * zero-extended, and when the 64-bit sum has no other use it disappears.
 *
 * The effective address is bit for bit the one the plain form computes:
 * the low 32 bits of a 64-bit sum are the 32-bit sum of the low halves
 * (addition modulo 2^64 reduced modulo 2^32), and the memarg offset is added
 * to it as before. So nothing about which memory an access can reach
 * changes (docs/security.md: WebAssembly's bounds on the i32 address plus
 * offset keep every access inside the space), and test/jit-address-sum.test.ts
 * holds the JIT to that, wrap-around included.
 *
 * Facts live for one basic block (another edge may enter the next one), and
 * any write to a register forgets the facts that mention it.
 */
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';

/** register rd holds wrap-equivalently regs[0] (+ regs[1]) + imm */
interface Sum {
  regs: number[];
  /** int32, the constant addend modulo 2^32 */
  imm: number;
}

export class AddressSums {
  private readonly sums: Array<Sum | undefined> = new Array(11).fill(undefined);

  /** A basic block starts: nothing is known. */
  reset(): void {
    this.sums.fill(undefined);
  }

  /** What `reg` is the sum of, if known here. */
  sumOf(reg: number): Readonly<Sum> | undefined {
    return this.sums[reg];
  }

  /** Update the facts after `ins` (slot `pc` of `insns`) has run. */
  track(ins: Insn): void {
    const cls = op.classOf(ins.code);
    if (cls === op.BPF_ALU64) {
      const o = op.opOf(ins.code);
      const x = op.sourceOf(ins.code) === op.BPF_X;
      const d = ins.dst;
      let next: Sum | undefined;
      // `rd = rs` (off 0: MOVSX's sign-extending forms have off 8/16/32)
      if (o === op.BPF_MOV && x && ins.off === 0 && ins.src !== d) next = { regs: [ins.src], imm: 0 };
      else if (o === op.BPF_ADD) {
        const cur = this.sums[d];
        if (cur && !x) next = { regs: cur.regs, imm: (cur.imm + ins.imm) | 0 };
        else if (cur && x && cur.regs.length === 1 && ins.src !== d) next = { regs: [cur.regs[0]!, ins.src], imm: cur.imm };
      }
      this.written(d);
      this.sums[d] = next;
      return;
    }
    if (cls === op.BPF_ALU || cls === op.BPF_LDX) return this.written(ins.dst);
    if (cls === op.BPF_LD) {
      // lddw writes dst; LD_ABS/IND write r0 and clobber r1..r5 as a call does
      if (ins.code === op.OP_LDDW) return this.written(ins.dst);
      for (let r = 0; r <= 5; r++) this.written(r);
      return;
    }
    if (cls === op.BPF_STX && op.modeOf(ins.code) === op.BPF_ATOMIC) {
      // fetch forms write src, cmpxchg writes r0
      this.written(ins.src);
      this.written(0);
      return;
    }
    if (cls === op.BPF_JMP || cls === op.BPF_JMP32) {
      for (let r = 0; r <= 5; r++) this.written(r); // calls (and inlined helpers) clobber r0..r5
    }
  }

  /** Register r changes: forget its own fact and every fact that reads it. */
  private written(r: number): void {
    const sums = this.sums;
    sums[r] = undefined;
    for (let k = 0; k < sums.length; k++) if (sums[k]?.regs.includes(r)) sums[k] = undefined;
  }
}
