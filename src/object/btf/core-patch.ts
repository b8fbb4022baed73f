/**
 * Writing a relocation's value into its instruction (libbpf's
 * bpf_core_patch_insn), or poisoning the instruction when it cannot be
 * relocated (bpf_core_poison_insn).
 */
import type { Errno } from '../../errors.js';
import type { Insn } from '../../isa/insn.js';
import { classOf, BPF_JMP, BPF_CALL, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_ALU64, BPF_K, sourceOf, sizeOf, sizeBytes, BPF_MEMSX, BPF_B, BPF_H, BPF_W, BPF_DW, OP_LDDW } from '../../isa/opcodes.js';
import { CoreRelocationError } from './core-spec.js';
import type { CoreResult, CoreLog } from './core.js';

const SIZE_CODE: Record<number, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** The helper id of a poisoned instruction: 0xbad2310, "bad relo" (libbpf's bpf_core_poison_insn). */
export const POISON_HELPER_ID = 195896080;

/** Turn slot `i` into a call of the invalid helper; the verifier rejects it only if reachable. */
function poisonInsn(insns: Insn[], i: number, at: string, log?: CoreLog): void {
  log?.(`${at} substituting insn #${i} w/ invalid insn`);
  insns[i] = { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: POISON_HELPER_ID };
}

/** Patch the instruction at relo.insnOff with the relocated value (libbpf's bpf_core_patch_insn). */
export function patchInsn(insns: Insn[], r: CoreResult, tn: string, prog: string, log?: CoreLog): void {
  const i = r.relo.insnOff;
  const at = `prog '${prog}': relo #${r.relo.reloIdx ?? 0}:`;
  const fail = (errno: Errno, why: string): never => {
    log?.(`${at} ${why}`);
    throw new CoreRelocationError(i, r.relo, tn, why, errno, prog);
  };
  const ins = insns[i];
  if (!ins) return fail('EINVAL', `insn #${i} is outside the program (${insns.length} insns)`);
  const poison = (): void => {
    // the second slot of an lddw too, or the verifier would complain of "unknown opcode 00"
    if (ins.code === OP_LDDW && insns[i + 1]) poisonInsn(insns, i + 1, at, log);
    poisonInsn(insns, i, at, log);
  };
  if (r.poison) return poison();
  const cls = classOf(ins.code);
  const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (sourceOf(ins.code) !== BPF_K) return fail('EINVAL', `insn #${i} (ALU/ALU64) has a register source`);
    if (r.validate && u64(ins.imm >>> 0) !== u64(r.local) && BigInt(ins.imm) !== BigInt(r.local))
      return fail('EINVAL', `unexpected insn #${i} (ALU/ALU64) value: got ${ins.imm}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    // the C code stores a u64 into a s32 immediate: it truncates
    insns[i] = { ...ins, imm: Number(BigInt.asIntN(32, BigInt(r.target))) };
    log?.(`${at} patched insn #${i} (ALU/ALU64) imm ${u64(ins.imm)} -> ${u64(r.target)}`);
    return;
  }
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) {
    if (r.validate && ins.off !== Number(r.local))
      return fail('EINVAL', `unexpected insn #${i} (LDX/ST/STX) value: got ${ins.off}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    if (u64(r.target) > 0x7fffn) return fail('ERANGE', `insn #${i} (LDX/ST/STX) value too big: ${u64(r.target)}`);
    if (r.failMemszAdjust) {
      log?.(`${at} insn #${i} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size.`);
      return poison();
    }
    const v = Number(r.target);
    let code = ins.code;
    log?.(`${at} patched insn #${i} (LDX/ST/STX) off ${ins.off} -> ${v}`);
    if (r.localSize !== r.targetSize) {
      const have = sizeBytes(sizeOf(code));
      if (have !== r.localSize) return fail('EINVAL', `insn #${i} (LDX/ST/STX) unexpected mem size: got ${have}, exp ${r.localSize}`);
      const sc = SIZE_CODE[r.targetSize];
      if (sc === undefined) return fail('EINVAL', `insn #${i} (LDX/ST/STX) invalid new mem size: ${r.targetSize}`);
      // libbpf keeps mode, size and class: BPF_MEMSX survives the resize
      code = (code & ~0x18) | sc;
      log?.(`${at} patched insn #${i} (LDX/ST/STX) mem_sz ${r.localSize} -> ${r.targetSize}`);
    }
    insns[i] = { ...ins, code, off: v };
    return;
  }
  if (ins.code === OP_LDDW) {
    const next = insns[i + 1];
    if (!next || ins.src !== 0 || ins.off !== 0 || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0)
      return fail('EINVAL', `insn #${i} (LDIMM64) has unexpected form`);
    const cur = (BigInt(next.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0);
    if (r.validate && cur !== u64(r.local)) return fail('EINVAL', `unexpected insn #${i} (LDIMM64) value: got ${cur}, exp ${u64(r.local)} -> ${u64(r.target)}`);
    const v = u64(r.target);
    insns[i] = { ...ins, imm: Number(BigInt.asIntN(32, v & 0xffffffffn)) };
    insns[i + 1] = { ...next, imm: Number(BigInt.asIntN(32, v >> 32n)) };
    log?.(`${at} patched insn #${i} (LDIMM64) imm64 ${cur} -> ${v}`);
    return;
  }
  fail('EINVAL', `trying to relocate unrecognized insn #${i}, code:0x${ins.code.toString(16)}, src:0x${ins.src.toString(16)}, dst:0x${ins.dst.toString(16)}, off:0x${(ins.off & 0xffff).toString(16)}, imm:0x${(ins.imm >>> 0).toString(16)}`);
}
