/**
 * Which CPU version (LLVM's -mcpu=v1..v4) and which RFC 9669 conformance
 * group (section 2.4) each instruction needs.
 *
 * Groups (RFC 9669 2.4 and the notes in sections 4 and 5):
 *  - base32: ALU, JMP32, every CALL/JA/EXIT, B/H/W loads and stores, bswap16/32
 *  - base64: ALU64, JMP conditionals, DW loads and stores, lddw, 64-bit byte swaps
 *  - divmul32 / divmul64: MUL, DIV, SDIV, MOD, SMOD in ALU / ALU64
 *  - atomic32 / atomic64: BPF_ATOMIC of size W / DW
 *  - packet: the legacy LD_ABS / LD_IND
 *  - callx: call through a register (not in RFC 9669; a group of the
 *    bpf_conformance suite, as uBPF and eBPF for Windows use it)
 *
 * CPU versions (LLVM's BPF subtargets), as the bpf_conformance suite assigns
 * them to the opcodes of the ISA specification (its README's counts of 163 v1,
 * 9 v2, 82 v3 and 59 v4 tests follow from this table; test/isa-asm checks it):
 *  - v1: the original set; callx too (its own group marks it)
 *  - v2: JLT, JLE, JSLT, JSLE in class JMP
 *  - v3: the JMP32 class, every atomic operation, bpf-to-bpf and kfunc calls
 *  - v4: SDIV/SMOD, MOVSX, MEMSX loads, unconditional byte swaps
 *    (ALU64|END), `gotol` (JMP32|JA); Linux's later extensions
 *    (load-acquire/store-release, may_goto, addr_space_cast) also count as v4.
 */
import { InstructionError } from '../errors.js';
import type { Insn } from './insn.js';
import * as op from './opcodes.js';
import { validateInsn } from './validate.js';

export type CpuVersion = 1 | 2 | 3 | 4;
export type ConformanceGroup = 'base32' | 'base64' | 'atomic32' | 'atomic64' | 'divmul32' | 'divmul64' | 'packet' | 'callx';

export interface InsnClassification {
  cpu: CpuVersion;
  group: ConformanceGroup;
}

const BPF_JCOND = 0xe0;

/**
 * Linux encodings beyond RFC 9669: may_goto (JMP|JCOND; validateInsn accepts
 * it, as the VM runs it) and those validateInsn rejects: addr_space_cast
 * (MOV64 X, off 1), the verifier's per-CPU address mov (off -1) and nospec
 * (ST|0xc0). The disassembler prints them.
 */
export function isLinuxExtension(ins: Insn): boolean {
  const { code, dst, src, off, imm } = ins;
  if (code === (op.BPF_JMP | BPF_JCOND)) return dst === 0 && src === 0 && imm === 0;
  if (code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_X)) return dst <= op.MAX_REG && src <= op.MAX_REG && (off === 1 || (off === -1 && imm === 0));
  if (code === (op.BPF_ST | 0xc0)) return dst === 0 && src === 0 && off === 0 && imm === 0;
  return false;
}

/**
 * The CPU version and conformance group of one instruction (the first slot of
 * an lddw). Throws {@link InstructionError} for a slot that is no instruction
 * (such as the second half of an lddw); `index` is used in that message.
 */
export function classifyInsn(ins: Insn, index = 0): InsnClassification {
  const { code, off, imm } = ins;
  if (!isLinuxExtension(ins)) validateInsn(ins, index);
  const cls = op.classOf(code);
  const o = op.opOf(code);
  const x = op.sourceOf(code) === op.BPF_X;
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const is64 = cls === op.BPF_ALU64;
      if (o === op.BPF_END) {
        // RFC 9669 4.2: width-64 swaps are base64, the others base32; ALU64|END is v4's bswap.
        return { cpu: is64 ? 4 : 1, group: imm === 64 ? 'base64' : 'base32' };
      }
      if (o === op.BPF_MUL || o === op.BPF_DIV || o === op.BPF_MOD) {
        const signed = o !== op.BPF_MUL && off === 1;
        return { cpu: signed ? 4 : 1, group: is64 ? 'divmul64' : 'divmul32' };
      }
      // MOVSX (off 8/16/32) and Linux's addr_space_cast (off 1) / percpu (off -1) are v4.
      const v4mov = o === op.BPF_MOV && x && off !== 0;
      return { cpu: v4mov ? 4 : 1, group: is64 ? 'base64' : 'base32' };
    }
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      if (o === op.BPF_CALL) {
        if (x) return { cpu: 1, group: 'callx' };
        return { cpu: ins.src === op.BPF_PSEUDO_HELPER ? 1 : 3, group: 'base32' };
      }
      if (o === op.BPF_EXIT) return { cpu: 1, group: 'base32' };
      if (o === op.BPF_JA) return { cpu: cls === op.BPF_JMP32 ? 4 : 1, group: 'base32' };
      if (o === BPF_JCOND) return { cpu: 4, group: 'base32' }; // may_goto (Linux 6.9)
      if (cls === op.BPF_JMP32) return { cpu: 3, group: 'base32' };
      const v2 = o === op.BPF_JLT || o === op.BPF_JLE || o === op.BPF_JSLT || o === op.BPF_JSLE;
      return { cpu: v2 ? 2 : 1, group: 'base64' };
    }
    case op.BPF_LD: {
      const mode = op.modeOf(code);
      if (mode === op.BPF_ABS || mode === op.BPF_IND) return { cpu: 1, group: 'packet' };
      if (code === op.OP_LDDW) return { cpu: 1, group: 'base64' };
      break;
    }
    case op.BPF_LDX:
    case op.BPF_ST:
    case op.BPF_STX: {
      const mode = op.modeOf(code);
      const dw = op.sizeOf(code) === op.BPF_DW;
      if (mode === op.BPF_ATOMIC && cls === op.BPF_STX) {
        const group = dw ? 'atomic64' : 'atomic32';
        if (imm === op.BPF_LOAD_ACQ || imm === op.BPF_STORE_REL) return { cpu: 4, group };
        return { cpu: 3, group };
      }
      if (mode === op.BPF_MEMSX) return { cpu: 4, group: 'base32' };
      if (mode === op.BPF_MEM) return { cpu: 1, group: dw ? 'base64' : 'base32' };
      if (cls === op.BPF_ST && mode === 0xc0) return { cpu: 1, group: 'base32' }; // Linux-internal nospec
      break;
    }
  }
  throw new InstructionError(index, `unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
}

/** The lowest CPU version that has every instruction of the program. */
export function requiredCpu(insns: readonly Insn[]): CpuVersion {
  let v: CpuVersion = 1;
  forEachInsn(insns, (ins, i) => {
    const c = classifyInsn(ins, i).cpu;
    if (c > v) v = c;
  });
  return v;
}

/**
 * The conformance groups a runtime must support to run the program
 * (RFC 9669 2.4: base64 includes base32, atomic64 atomic32, divmul64
 * divmul32, so a program using only base32 instructions lists just base32).
 */
export function requiredGroups(insns: readonly Insn[]): Set<ConformanceGroup> {
  const out = new Set<ConformanceGroup>();
  forEachInsn(insns, (ins, i) => out.add(classifyInsn(ins, i).group));
  return out;
}

function forEachInsn(insns: readonly Insn[], f: (ins: Insn, i: number) => void): void {
  for (let i = 0; i < insns.length; i++) {
    f(insns[i]!, i);
    if (insns[i]!.code === op.OP_LDDW) i++;
  }
}
