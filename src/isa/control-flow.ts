/**
 * Control flow in the instruction model (RFC 9669 sections 4.3 and 5.4, the
 * kernel's check_subprogs / check_cfg view): which instructions are jumps,
 * where a jump goes, which slots follow an instruction, and where the
 * functions of a program (the kernel's subprograms) start. Every layer that
 * walks a program's control flow asks here: the validator, the verifier's
 * CFG checks and path exploration, the JIT's basic blocks, the
 * disassembler's labels, the object writer's function split and the hooks'
 * context-read analysis.
 */
import type { Insn } from './insn.js';
import * as op from './opcodes.js';

/** BPF_JMP or BPF_JMP32 class: jumps, calls and exit. */
function isJmpClass(ins: Insn): boolean {
  const cls = op.classOf(ins.code);
  return cls === op.BPF_JMP || cls === op.BPF_JMP32;
}

/** A jump: `ja` / `gotol`, a conditional jump or `may_goto` (not a call, not `exit`). */
export function isJump(ins: Insn): boolean {
  if (!isJmpClass(ins)) return false;
  const o = op.opOf(ins.code);
  return o !== op.BPF_CALL && o !== op.BPF_EXIT;
}

/** A jump that may fall through: every jump but `ja` / `gotol` (conditional jumps and `may_goto`). */
export function isCondJump(ins: Insn): boolean {
  return isJump(ins) && op.opOf(ins.code) !== op.BPF_JA;
}

/** `gotol`: BPF_JMP32 | BPF_JA takes its offset from imm (RFC 9669 4.3). */
function isGotol(ins: Insn): boolean {
  return op.classOf(ins.code) === op.BPF_JMP32 && op.opOf(ins.code) === op.BPF_JA;
}

/** The slot a jump at `i` goes to (for a conditional jump, when taken). */
export function jumpTarget(ins: Insn, i: number): number {
  return i + 1 + (isGotol(ins) ? ins.imm : ins.off);
}

/** A bpf-to-bpf call (`call` with src BPF_PSEUDO_CALL, imm relative to the next slot). */
export function isPseudoCall(ins: Insn): boolean {
  return ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_CALL;
}

/** A function pointer (`lddw` with src BPF_PSEUDO_FUNC): a callback's address. */
export function isPseudoFunc(ins: Insn): boolean {
  return ins.code === op.OP_LDDW && ins.src === op.BPF_PSEUDO_FUNC;
}

/** The first slot of the function a bpf-to-bpf call at `i` calls, or a function pointer at `i` names. */
export function calleeStart(ins: Insn, i: number): number {
  return i + 1 + ins.imm;
}

/** Slots the instruction at `i` takes: 2 for `lddw`, else 1. */
export function slotsOf(ins: Insn): 1 | 2 {
  return ins.code === op.OP_LDDW ? 2 : 1;
}

/** The slots control may go to after instruction `i` (a call returns to `i + 1`; callees are not followed). */
export function successors(insns: readonly Insn[], i: number): number[] {
  const ins = insns[i]!;
  if (ins.code === op.OP_LDDW) return [i + 2];
  if (!isJmpClass(ins)) return [i + 1];
  const o = op.opOf(ins.code);
  if (o === op.BPF_EXIT) return [];
  if (o === op.BPF_CALL) return [i + 1];
  if (o === op.BPF_JA) return [jumpTarget(ins, i)];
  return [i + 1, jumpTarget(ins, i)];
}

/**
 * Where the program's functions start, sorted (check_subprogs): slot 0, and
 * every target of a bpf-to-bpf call or of a function-pointer `lddw`. Targets
 * are not range-checked here.
 */
export function functionStarts(insns: readonly Insn[]): number[] {
  const set = new Set<number>([0]);
  for (let i = 0; i < insns.length; i += slotsOf(insns[i]!)) {
    const ins = insns[i]!;
    if (isPseudoCall(ins) || isPseudoFunc(ins)) set.add(calleeStart(ins, i));
  }
  return [...set].sort((a, b) => a - b);
}
