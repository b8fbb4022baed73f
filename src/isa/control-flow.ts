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

/**
 * The successor relation of a whole program in flat form, for the analyses that iterate over
 * it to a fixpoint (the verifier's liveness and precision): the slots instruction i may go to
 * are `to[off[i]] .. to[off[i + 1] - 1]`, in `successors` order, targets outside the program
 * left out; the second slot of an lddw (`second[i]`) has none. Index loops over typed arrays
 * instead of an array per instruction: these loops run over every instruction several times
 * per verification.
 */
export interface SuccessorTable {
  off: Int32Array;
  to: Int32Array;
  /** 1 at the second slot of an lddw */
  second: Uint8Array;
  /**
   * every successor comes after its instruction (no loops): a fixpoint over the table then
   * settles in one pass in program order (forward analyses) or its reverse (backward ones)
   */
  forward: boolean;
}

export function successorTable(insns: readonly Insn[]): SuccessorTable {
  const n = insns.length;
  const off = new Int32Array(n + 1);
  const to = new Int32Array(2 * n);
  const second = new Uint8Array(n);
  let k = 0, forward = true;
  for (let i = 0; i < n; i++) {
    off[i] = k;
    const ins = insns[i]!;
    if (i > 0 && ins.code === 0 && insns[i - 1]!.code === op.OP_LDDW) {
      second[i] = 1;
      continue;
    }
    if (ins.code === op.OP_LDDW) {
      if (i + 2 < n) to[k++] = i + 2;
      continue;
    }
    if (!isJmpClass(ins)) {
      if (i + 1 < n) to[k++] = i + 1;
      continue;
    }
    const o = op.opOf(ins.code);
    if (o === op.BPF_EXIT) continue;
    if (o === op.BPF_CALL) {
      if (i + 1 < n) to[k++] = i + 1;
      continue;
    }
    if (o !== op.BPF_JA && i + 1 < n) to[k++] = i + 1;
    const t = jumpTarget(ins, i);
    if (t >= 0 && t < n) to[k++] = t;
    if (t <= i) forward = false;
  }
  off[n] = k;
  return { off, to, second, forward };
}
