/**
 * What the straight line of instructions before an instruction (no jump lands inside it) sets a
 * register to: r10 or an argument register plus constants, an lddw, a constant. The static
 * analyses (precision.ts, stack-liveness.ts through it) read clang's usual shapes this way
 * (`r2 = r10; r2 += -16` before a helper call, `r2 = 64` for its size) without a walk; any doubt is
 * "unknown".
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';

/** The second slot of an lddw (its upper immediate), which is no instruction of its own. */
function isSecondLddwSlot(insns: readonly Insn[], i: number): boolean {
  return i > 0 && insns[i - 1]!.code === op.OP_LDDW && insns[i]!.code === 0;
}

/**
 * The constant offset from r10 that register r holds before instruction i, when the straight
 * line of instructions leading to i (no jump lands inside it) computes it as r10 plus
 * constants, moves included (clang's `r2 = r10; r2 += -16` before a helper call); otherwise
 * undefined.
 */
export function fpOffsetBefore(insns: readonly Insn[], blockStart: Uint8Array, i: number, r: number): number | undefined {
  if (blockStart[i]) return undefined;
  let want = r, add = 0;
  for (let j = i - 1; j >= 0; j--) {
    if (isSecondLddwSlot(insns, j)) continue;
    const ins = insns[j]!;
    const cls = op.classOf(ins.code);
    if (cls === op.BPF_ALU64 && ins.dst === want && ins.code === (op.BPF_ALU64 | op.BPF_ADD | op.BPF_K)) add += ins.imm;
    else if (cls === op.BPF_ALU64 && ins.dst === want && ins.code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_X) && ins.off === 0) {
      if (ins.src === 10) return add;
      want = ins.src;
    } else if (writesReg(ins, want)) return undefined;
    if (blockStart[j]) return undefined;
  }
  return undefined;
}

/**
 * Where register r points before instruction i when the straight line from its function's entry
 * (`entryOnly`: entered by calls alone, no jump) sets it only from an argument register plus
 * constants (`r3 = r1; r3 += 8`): that argument and offset, as fpOffsetBefore for r10.
 */
export function argOffsetBefore(insns: readonly Insn[], blockStart: Uint8Array, entryOnly: Uint8Array, i: number, r: number): { arg: number; off: number } | undefined {
  let want = r, add = 0;
  const arg = (): { arg: number; off: number } | undefined => (want >= 1 && want <= 5 ? { arg: want, off: add } : undefined);
  if (entryOnly[i]) return arg();
  if (blockStart[i]) return undefined;
  for (let j = i - 1; j >= 0; j--) {
    if (isSecondLddwSlot(insns, j)) continue;
    const ins = insns[j]!;
    const cls = op.classOf(ins.code);
    if (cls === op.BPF_ALU64 && ins.dst === want && ins.code === (op.BPF_ALU64 | op.BPF_ADD | op.BPF_K)) add += ins.imm;
    else if (cls === op.BPF_ALU64 && ins.dst === want && ins.code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_X) && ins.off === 0) want = ins.src;
    else if (writesReg(ins, want)) return undefined;
    if (entryOnly[j]) return arg();
    if (blockStart[j]) return undefined;
  }
  return undefined;
}

/**
 * The instruction that last writes register r on the straight line leading to instruction i (no
 * jump lands between them), or undefined when the line starts before any does.
 */
function lastWriterBefore(insns: readonly Insn[], blockStart: Uint8Array, i: number, r: number): number | undefined {
  if (blockStart[i]) return undefined;
  for (let j = i - 1; j >= 0; j--) {
    if (isSecondLddwSlot(insns, j)) continue;
    if (writesReg(insns[j]!, r)) return j;
    if (blockStart[j]) return undefined;
  }
  return undefined;
}

/** The lddw that last set register r on the straight line leading to instruction i, if that is where r comes from. */
export function lddwBefore(insns: readonly Insn[], blockStart: Uint8Array, i: number, r: number): number | undefined {
  const j = lastWriterBefore(insns, blockStart, i, r);
  return j !== undefined && insns[j]!.code === op.OP_LDDW ? j : undefined;
}

/**
 * The constant register r holds before instruction i, when the straight line leading to i sets it
 * last with a move of an immediate (clang's `r2 = 64` before a helper call); otherwise undefined.
 */
export function constBefore(insns: readonly Insn[], blockStart: Uint8Array, i: number, r: number): number | undefined {
  const j = lastWriterBefore(insns, blockStart, i, r);
  if (j === undefined) return undefined;
  const ins = insns[j]!;
  if (ins.off !== 0) return undefined;
  // BPF_MOV | BPF_K: a 64-bit move sign-extends the immediate, a 32-bit one zero-extends it
  if (ins.code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_K)) return ins.imm;
  if (ins.code === (op.BPF_ALU | op.BPF_MOV | op.BPF_K)) return ins.imm >>> 0;
  return undefined;
}

/**
 * The 64-bit value register r holds before instruction i, when the straight line leading to i
 * sets it last with a constant: a move of an immediate or an lddw of a plain 64-bit constant
 * (what libbpf leaves of a CO-RE `bpf_core_enum_value_exists` or `bpf_core_field_exists`).
 */
export function constValueBefore(insns: readonly Insn[], blockStart: Uint8Array, i: number, r: number): bigint | undefined {
  const k = constBefore(insns, blockStart, i, r);
  if (k !== undefined) return BigInt.asUintN(64, BigInt(k));
  const j = lddwBefore(insns, blockStart, i, r);
  if (j === undefined || insns[j]!.src !== 0 || j + 1 >= insns.length) return undefined;
  return (BigInt(insns[j + 1]!.imm >>> 0) << 32n) | BigInt(insns[j]!.imm >>> 0);
}

/** Whether the instruction may write register r (conservatively: any doubt is a yes). */
function writesReg(ins: Insn, r: number): boolean {
  const cls = op.classOf(ins.code);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
    case op.BPF_LDX:
      return ins.dst === r;
    case op.BPF_LD:
      return ins.code === op.OP_LDDW ? ins.dst === r : r <= 5;
    case op.BPF_ST:
      return false;
    case op.BPF_STX:
      return op.modeOf(ins.code) === op.BPF_ATOMIC && (r === ins.src || r === 0);
    default: {
      const o = op.opOf(ins.code);
      return o === op.BPF_CALL ? r <= 5 : false;
    }
  }
}

