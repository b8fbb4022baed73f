/**
 * Structural validation of a program: every slot is a known instruction with
 * no reserved field set, lddw pairs are whole, every jump lands on an
 * instruction start inside the program, and control cannot fall off the end.
 *
 * These are the checks the kernel performs before abstract interpretation
 * (bpf_check -> resolve_pseudo_ldimm64, check_subprogs, and the reserved-field
 * checks at the top of do_check's per-class handlers); the verifier builds on
 * them. Value checks that need types (shift amounts, division by a constant
 * zero, writes to r10) belong to the verifier, not here.
 */
import { calleeStart, isJump, isPseudoCall, isPseudoFunc, jumpTarget } from './control-flow.js';
import { InstructionError } from '../errors.js';
import type { Insn } from './insn.js';
import * as op from './opcodes.js';

const ALU_OPS = new Set([
  op.BPF_ADD, op.BPF_SUB, op.BPF_MUL, op.BPF_DIV, op.BPF_OR, op.BPF_AND, op.BPF_LSH, op.BPF_RSH,
  op.BPF_NEG, op.BPF_MOD, op.BPF_XOR, op.BPF_MOV, op.BPF_ARSH, op.BPF_END,
]);
const COND_JMP_OPS = new Set([
  op.BPF_JEQ, op.BPF_JGT, op.BPF_JGE, op.BPF_JSET, op.BPF_JNE, op.BPF_JSGT, op.BPF_JSGE,
  op.BPF_JLT, op.BPF_JLE, op.BPF_JSLT, op.BPF_JSLE,
]);
const ATOMIC_OPS = new Set([
  op.BPF_ADD, op.BPF_OR, op.BPF_AND, op.BPF_XOR,
  op.BPF_ADD | op.BPF_FETCH, op.BPF_OR | op.BPF_FETCH, op.BPF_AND | op.BPF_FETCH, op.BPF_XOR | op.BPF_FETCH,
  op.BPF_XCHG, op.BPF_CMPXCHG,
]);

export interface ValidateOptions {
  /** Accept Linux's load-acquire/store-release atomics (not in RFC 9669). Default true. */
  loadAcquireStoreRelease?: boolean;
}

/**
 * Check one slot in isolation (not the second half of an lddw). Throws an
 * {@link InstructionError} naming index `i` and the reason.
 */
export function validateInsn(ins: Insn, i: number, opts: ValidateOptions = {}): void {
  const { code, dst, src, off, imm } = ins;
  if (dst > op.MAX_REG) fail(i, `invalid dst register r${dst}`);
  if (src > op.MAX_REG && !(code === op.OP_LDDW)) fail(i, `invalid src register r${src}`);
  const cls = op.classOf(code);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const o = op.opOf(code);
      const x = op.sourceOf(code) === op.BPF_X;
      if (!ALU_OPS.has(o)) fail(i, `unknown opcode 0x${hex2(code)}`);
      if (o === op.BPF_END) {
        if (cls === op.BPF_ALU64 && x) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (src !== 0 || off !== 0) fail(i, 'BPF_END uses reserved fields');
        if (imm !== 16 && imm !== 32 && imm !== 64) fail(i, `BPF_END with invalid width ${imm}`);
        return;
      }
      if (o === op.BPF_NEG) {
        if (x || src !== 0 || off !== 0 || imm !== 0) fail(i, 'BPF_NEG uses reserved fields');
        return;
      }
      if (o === op.BPF_MOV && off !== 0) {
        // MOVSX (v4): off is the source width, register source only.
        const widths = cls === op.BPF_ALU64 ? [8, 16, 32] : [8, 16];
        if (!x || imm !== 0 || !widths.includes(off)) fail(i, 'BPF_MOV uses reserved fields');
        return;
      }
      if ((o === op.BPF_DIV || o === op.BPF_MOD) && off !== 0 && off !== 1) fail(i, `${o === op.BPF_DIV ? 'BPF_DIV' : 'BPF_MOD'} uses reserved fields`);
      if (o !== op.BPF_DIV && o !== op.BPF_MOD && off !== 0) fail(i, 'BPF_ALU uses reserved fields');
      if (x ? imm !== 0 : src !== 0) fail(i, 'BPF_ALU uses reserved fields');
      return;
    }
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      const o = op.opOf(code);
      const x = op.sourceOf(code) === op.BPF_X;
      if (o === op.BPF_JA) {
        if (x) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (dst !== 0 || src !== 0) fail(i, 'BPF_JA uses reserved fields');
        // JMP|JA uses off; JMP32|JA ("gotol", v4) uses imm and needs off == 0.
        if (cls === op.BPF_JMP ? imm !== 0 : off !== 0) fail(i, 'BPF_JA uses reserved fields');
        return;
      }
      if (o === op.BPF_CALL) {
        if (cls !== op.BPF_JMP) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (x) {
          // callx: the target register is in dst (as the conformance suite encodes it).
          if (src !== 0 || off !== 0 || imm !== 0) fail(i, 'BPF_CALLX uses reserved fields');
          return;
        }
        if (dst !== 0) fail(i, 'BPF_CALL uses reserved fields');
        if (src !== op.BPF_PSEUDO_HELPER && src !== op.BPF_PSEUDO_CALL && src !== op.BPF_PSEUDO_KFUNC_CALL)
          fail(i, 'BPF_CALL uses reserved fields');
        // off selects the module BTF of a kfunc; it must be 0 for the others.
        if (src !== op.BPF_PSEUDO_KFUNC_CALL && off !== 0) fail(i, 'BPF_CALL uses reserved fields');
        return;
      }
      if (o === op.BPF_JCOND) {
        // may_goto (Linux 6.9, kernel check_cond_jmp_op): JMP class, K source,
        // src BPF_MAY_GOTO, dst and imm zero; off is the jump offset.
        if (code !== op.OP_MAY_GOTO) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (src !== op.BPF_MAY_GOTO || dst !== 0 || imm !== 0) fail(i, 'BPF_JCOND uses reserved fields');
        return;
      }
      if (o === op.BPF_EXIT) {
        if (cls !== op.BPF_JMP || x || dst !== 0 || src !== 0 || off !== 0 || imm !== 0)
          fail(i, 'BPF_EXIT uses reserved fields');
        return;
      }
      if (!COND_JMP_OPS.has(o)) fail(i, `unknown opcode 0x${hex2(code)}`);
      if (x ? imm !== 0 : src !== 0) fail(i, 'BPF_JMP/JMP32 uses reserved fields');
      return;
    }
    case op.BPF_LD: {
      const mode = op.modeOf(code);
      const size = op.sizeOf(code);
      if (mode === op.BPF_IMM) {
        if (size !== op.BPF_DW) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (off !== 0) fail(i, 'BPF_LD_IMM64 uses reserved fields');
        if (src > op.BPF_PSEUDO_MAP_IDX_VALUE) fail(i, `invalid bpf_ld_imm64 src ${src}`);
        return;
      }
      if (mode === op.BPF_ABS || mode === op.BPF_IND) {
        if (size === op.BPF_DW) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (dst !== 0 || off !== 0 || (mode === op.BPF_ABS && src !== 0))
          fail(i, 'BPF_LD_[ABS|IND] uses reserved fields');
        return;
      }
      return fail(i, `unknown opcode 0x${hex2(code)}`);
    }
    case op.BPF_LDX: {
      const mode = op.modeOf(code);
      if (mode !== op.BPF_MEM && mode !== op.BPF_MEMSX) fail(i, `unknown opcode 0x${hex2(code)}`);
      if (mode === op.BPF_MEMSX && op.sizeOf(code) === op.BPF_DW) fail(i, `unknown opcode 0x${hex2(code)}`);
      if (imm !== 0) fail(i, 'BPF_LDX uses reserved fields');
      return;
    }
    case op.BPF_ST: {
      if (op.modeOf(code) !== op.BPF_MEM) fail(i, `unknown opcode 0x${hex2(code)}`);
      if (src !== 0) fail(i, 'BPF_ST uses reserved fields');
      return;
    }
    case op.BPF_STX: {
      const mode = op.modeOf(code);
      if (mode === op.BPF_MEM) {
        if (imm !== 0) fail(i, 'BPF_STX uses reserved fields');
        return;
      }
      if (mode === op.BPF_ATOMIC) {
        const size = op.sizeOf(code);
        const ldAcqStRel =
          (opts.loadAcquireStoreRelease ?? true) && (imm === op.BPF_LOAD_ACQ || imm === op.BPF_STORE_REL);
        if (ldAcqStRel) return;
        if (size !== op.BPF_W && size !== op.BPF_DW) fail(i, `unknown opcode 0x${hex2(code)}`);
        if (!ATOMIC_OPS.has(imm)) fail(i, `BPF_ATOMIC uses invalid atomic opcode 0x${hex2(imm)}`);
        return;
      }
      return fail(i, `unknown opcode 0x${hex2(code)}`);
    }
  }
}

/**
 * Validate a whole program: each instruction, lddw pairing, jump and call
 * targets, and that the last instruction cannot fall through past the end.
 */
export function validateProgram(insns: readonly Insn[], opts: ValidateOptions = {}): void {
  const n = insns.length;
  if (n === 0) throw new InstructionError(0, 'program is empty');
  // Pass 1: which slots start an instruction.
  const isStart = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    isStart[i] = 1;
    const ins = insns[i]!;
    if (ins.code === op.OP_LDDW) {
      if (i + 1 >= n) throw new InstructionError(i, 'invalid bpf_ld_imm64 insn: second slot missing');
      const hi = insns[i + 1]!;
      if (hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0)
        throw new InstructionError(i + 1, 'invalid bpf_ld_imm64 insn: second slot uses reserved fields');
      i++;
    }
  }
  // Pass 2: per-instruction fields and control-flow targets.
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    validateInsn(ins, i, opts);
    const target = isJump(ins) ? jumpTarget(ins, i) : isPseudoCall(ins) ? calleeStart(ins, i) : undefined;
    if (target !== undefined) {
      if (target < 0 || target >= n) throw new InstructionError(i, `jump out of range from insn ${i} to ${target}`);
      if (!isStart[target]) throw new InstructionError(i, `jump into the middle of ldimm64 insn ${target - 1}`);
    }
    if (ins.code === op.OP_LDDW) {
      if (isPseudoFunc(ins)) {
        const callee = calleeStart(ins, i);
        if (callee < 0 || callee >= n || !isStart[callee])
          throw new InstructionError(i, `bpf_ld_imm64 function pointer out of range: ${callee}`);
      }
      i++;
    }
  }
  // Control must not run past the last instruction (kernel: "last insn is not an exit or jmp").
  let last = n - 1;
  if (last > 0 && insns[last - 1]!.code === op.OP_LDDW) last--;
  const lastCode = insns[last]!.code;
  if (lastCode !== op.OP_EXIT && lastCode !== op.OP_JA && lastCode !== op.OP_JA32)
    throw new InstructionError(last, 'last insn is not an exit or jmp');
}

/** (a module function, not a closure per instruction: validateInsn runs for every instruction loaded) */
function fail(i: number, reason: string): never {
  throw new InstructionError(i, reason);
}

function hex2(v: number): string {
  return (v >>> 0).toString(16).padStart(2, '0');
}
