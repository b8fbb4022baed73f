/**
 * Pre-decoding for the interpreter: instruction slots become parallel typed
 * arrays, so the dispatch loop reads small integers instead of objects, and
 * everything that can be computed once is.
 *
 * - Register numbers are stored doubled: register r lives at R[2r] (low 32
 *   bits) and R[2r+1] (high 32 bits) of the register file.
 * - Jump offsets become absolute target slots (JMP32|JA "gotol" takes its
 *   offset from imm, RFC 9669 4.3.1); bpf-to-bpf call targets too.
 * - Variants that share an opcode but differ by a field get their own internal
 *   opcode (>= 0x100): signed div/mod (off = 1), movsx (off = 8/16/32), the
 *   byte-swap widths, call kinds. The dispatch switch then has one case per
 *   behaviour and no second-level tests.
 * - lddw keeps its low word in imm and its high word in off; a BPF_PSEUDO_FUNC
 *   lddw (src 4) yields the absolute instruction index of the function, which
 *   is what ExecEnv.callFunc takes.
 */
import { calleeStart, isPseudoFunc, jumpTarget } from '../../isa/control-flow.js';
import { HELPER_TAIL_CALL } from '../../uapi/helper-ids.js';
import type { Insn } from '../../isa/insn.js';
import type { InsnAux } from '../../verifier/insn-aux.js';
import * as op from '../../isa/opcodes.js';

// exec.ts repeats these values as literal case labels: V8 compiles a switch to
// a jump table only when its labels are literals. Change both together.
export const I_INVALID = 0x100;
export const I_BREAK = 0x101;
export const I_CALL_LOCAL = 0x102;
export const I_TAIL_CALL = 0x103;
export const I_KFUNC = 0x104;
export const I_SDIV32_K = 0x105;
export const I_SDIV32_X = 0x106;
export const I_SMOD32_K = 0x107;
export const I_SMOD32_X = 0x108;
export const I_SDIV64_K = 0x109;
export const I_SDIV64_X = 0x10a;
export const I_SMOD64_K = 0x10b;
export const I_SMOD64_X = 0x10c;
export const I_MOVSX32_8 = 0x10d;
export const I_MOVSX32_16 = 0x10e;
export const I_MOVSX64_8 = 0x10f;
export const I_MOVSX64_16 = 0x110;
export const I_MOVSX64_32 = 0x111;
export const I_LE16 = 0x112;
export const I_LE32 = 0x113;
export const I_LE64 = 0x114;
export const I_BE16 = 0x115;
export const I_BE32 = 0x116;
export const I_BE64 = 0x117;
export const I_ATOMIC = 0x118;
export const I_LDPKT = 0x119;
/** a load through a kernel-object pointer (InsnAux.probeMem): Linux's BPF_PROBE_MEM */
export const I_PROBE_MEM = 0x11a;

export interface DecodedProgram {
  readonly n: number;
  /** opcode or internal opcode per slot (a debugger's copy may hold I_BREAK) */
  readonly op: Uint16Array;
  /**
   * What the dispatch loop reads: op | (2*dst) << 9 | (2*src) << 14, one load
   * per instruction instead of three.
   */
  readonly code: Int32Array;
  /** 2 * dst register */
  readonly dst: Uint8Array;
  /** 2 * src register */
  readonly src: Uint8Array;
  /** offset; absolute target for jumps and local calls; high word for lddw */
  readonly off: Int32Array;
  /** immediate; low word for lddw */
  readonly imm: Int32Array;
  /** the instructions as given (for the original opcode, disassembly) */
  readonly insns: readonly Insn[];
  /** for a patched copy (debugger breakpoints): the unpatched program */
  readonly clean?: DecodedProgram;
}

/** `aux`: the verifier's facts; loads it marks probeMem get I_PROBE_MEM (read 0 outside kernel memory). */
export function decodeProgram(insns: readonly Insn[], aux?: ReadonlyArray<InsnAux | undefined>): DecodedProgram {
  const n = insns.length;
  const opA = new Uint16Array(n);
  const dstA = new Uint8Array(n);
  const srcA = new Uint8Array(n);
  const offA = new Int32Array(n);
  const immA = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    const code = ins.code;
    let o = code;
    let off = ins.off;
    let imm = ins.imm;
    const cls = op.classOf(code);
    const x = op.sourceOf(code) === op.BPF_X;
    switch (cls) {
      case op.BPF_ALU:
      case op.BPF_ALU64: {
        const a = op.opOf(code);
        const is64 = cls === op.BPF_ALU64;
        if ((a === op.BPF_DIV || a === op.BPF_MOD) && off === 1) {
          const div = a === op.BPF_DIV;
          o = is64
            ? div ? (x ? I_SDIV64_X : I_SDIV64_K) : x ? I_SMOD64_X : I_SMOD64_K
            : div ? (x ? I_SDIV32_X : I_SDIV32_K) : x ? I_SMOD32_X : I_SMOD32_K;
        } else if (a === op.BPF_MOV && x && off !== 0) {
          if (is64) o = off === 8 ? I_MOVSX64_8 : off === 16 ? I_MOVSX64_16 : off === 32 ? I_MOVSX64_32 : I_INVALID;
          else o = off === 8 ? I_MOVSX32_8 : off === 16 ? I_MOVSX32_16 : I_INVALID;
        } else if (a === op.BPF_END) {
          // ALU|END|TO_LE, ALU|END|TO_BE, and ALU64|END|TO_LE = bswap (v4), which on
          // a little-endian machine is the same as to-big-endian (RFC 9669 4.2).
          const le = cls === op.BPF_ALU && !x;
          if (imm === 16) o = le ? I_LE16 : I_BE16;
          else if (imm === 32) o = le ? I_LE32 : I_BE32;
          else if (imm === 64) o = le ? I_LE64 : I_BE64;
          else o = I_INVALID;
        }
        break;
      }
      case op.BPF_JMP:
      case op.BPF_JMP32: {
        const a = op.opOf(code);
        if (a === op.BPF_CALL) {
          if (cls !== op.BPF_JMP) o = I_INVALID;
          else if (!x) {
            if (ins.src === op.BPF_PSEUDO_CALL) {
              o = I_CALL_LOCAL;
              off = calleeStart(ins, i);
            } else if (ins.src === op.BPF_PSEUDO_KFUNC_CALL) o = I_KFUNC;
            else if (imm === HELPER_TAIL_CALL) o = I_TAIL_CALL;
          }
        } else if (a !== op.BPF_EXIT) {
          off = jumpTarget(ins, i);
        }
        break;
      }
      case op.BPF_LD: {
        if (code === op.OP_LDDW && i + 1 < n) {
          off = insns[i + 1]!.imm;
          if (isPseudoFunc(ins)) {
            imm = calleeStart(ins, i);
            off = 0;
          }
          opA[i] = o;
          dstA[i] = ins.dst * 2;
          offA[i] = off;
          immA[i] = imm;
          i++;
          opA[i] = I_INVALID; // the second slot is never executed
          continue;
        }
        o = op.modeOf(code) === op.BPF_ABS || op.modeOf(code) === op.BPF_IND ? I_LDPKT : I_INVALID;
        break;
      }
      case op.BPF_STX:
        if (op.modeOf(code) === op.BPF_ATOMIC) o = I_ATOMIC;
        break;
      case op.BPF_LDX:
        if (aux?.[i]?.probeMem) o = I_PROBE_MEM;
        break;
    }
    opA[i] = o;
    dstA[i] = (ins.dst & 0xf) * 2;
    srcA[i] = (ins.src & 0xf) * 2;
    offA[i] = off;
    immA[i] = imm;
  }
  const codeA = new Int32Array(n);
  for (let i = 0; i < n; i++) codeA[i] = packCode(opA[i]!, dstA[i]!, srcA[i]!);
  return { n, op: opA, code: codeA, dst: dstA, src: srcA, off: offA, imm: immA, insns };
}

function packCode(o: number, d2: number, s2: number): number {
  return o | (d2 << 9) | (s2 << 14);
}

/** A copy whose opcodes can be patched (breakpoints) without touching the original. */
export function patchableCopy(p: DecodedProgram): DecodedProgram {
  const clean = p.clean ?? p;
  return { ...clean, op: clean.op.slice(), code: clean.code.slice(), clean };
}
