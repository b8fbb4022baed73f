/**
 * Arithmetic (BPF_ALU, BPF_ALU64): the operand checks (a register read
 * before it was written, division by a constant zero, shift counts past the
 * width, what may be done to a pointer and by whom) and the transfer, which
 * scalar.ts computes for scalars and ptrArith here for a pointer moved by a
 * scalar. Follows the kernel's check_alu_op, adjust_scalar_min_max_vals
 * and adjust_ptr_min_max_vals.
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg, regTypeStr } from './types.js';
import { tnumAdd, tnumStr, tnumSub } from './tnum.js';
import { Scalar } from './scalar.js';
import { scalarAlu } from './scalar-alu.js';
import { Reject } from './reject.js';
import { BPF_MAX_VAR_OFF, type Verifier } from './env.js';
import { isSock } from './sock.js';

export function checkAlu(env: Verifier, ins: Insn, alu32: boolean): void {
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const i = env.idx;
  if (o === op.BPF_NEG || o === op.BPF_END) {
    const d = env.readReg(ins.dst);
    if (d.isPointer && !env.privileged) throw new Reject({
      errno: 'EACCES',
      message: `R${ins.dst} pointer arithmetic prohibited`,
      insn: i,
      regs: [ins.dst],
    });
    // BPF_NEG of a scalar keeps its range (Linux 6.16+, adjust_scalar_min_max_vals' BPF_NEG):
    // dst = 0 - dst, with BPF_SUB's bounds and tnum_neg = tnum_sub(0, dst), zero-extended for alu32.
    if (o === op.BPF_NEG && d.type === 'scalar') {
      const r = Reg.scalar(Scalar.known(0n));
      scalarAlu(op.BPF_SUB, r.s, d.s, alu32);
      env.writeReg(ins.dst, r);
      return;
    }
    env.writeReg(ins.dst, Reg.unknown());
    return;
  }
  if (o === op.BPF_MOV) {
    if (!x) {
      // a copy of the shared operand's scalar: the constant, without building it again
      env.writeReg(ins.dst, Reg.scalar(immOperand(ins.imm, alu32).s.clone()));
      return;
    }
    const s = env.readReg(ins.src);
    if (!alu32) {
      if (ins.off) {
        if (s.type !== 'scalar') {
          if (!env.privileged) throw new Reject({
            errno: 'EACCES',
            message: `R${ins.src} sign-extension part of pointer`,
            insn: i,
            regs: [ins.src],
          });
          env.writeReg(ins.dst, Reg.unknown());
          return;
        }
        const r = Reg.scalar(s.s.clone());
        r.s.signExtend((ins.off / 8) as 1 | 2 | 4);
        env.writeReg(ins.dst, r);
        return;
      }
      // A copy of an unknown scalar shares an id with it, so a bounds check on one applies to both.
      env.writeReg(ins.dst, (s.type === 'scalar' ? env.idBeforeMov(ins.src) : s).clone());
      return;
    }
    if (s.type !== 'scalar') {
      if (!env.privileged) throw new Reject({ errno: 'EACCES', message: `R${ins.src} partial copy of pointer`, insn: i, regs: [ins.src] });
      const r = Reg.unknown();
      r.s.zext32();
      r.s.sync();
      env.writeReg(ins.dst, r);
      return;
    }
    if (!ins.off && s.s.umax <= 0xffffffffn) {
      // w1 = w2 with r2 known to fit in 32 bits copies r2 exactly: the copy shares r2's id, so a
      // bounds check on either refines both (check_alu_op: is_src_reg_u32, copy_register_state)
      const c = env.idBeforeMov(ins.src).clone();
      c.s.zext32();
      c.s.sync();
      env.writeReg(ins.dst, c);
      return;
    }
    const r = Reg.scalar(s.s.clone());
    if (ins.off) r.s.signExtendSubreg((ins.off / 8) as 1 | 2);
    r.s.zext32();
    r.s.sync();
    env.writeReg(ins.dst, r);
    return;
  }
  const d = env.readReg(ins.dst);
  let src: Reg;
  if (x) src = env.readReg(ins.src);
  else {
    if ((o === op.BPF_DIV || o === op.BPF_MOD) && ins.imm === 0) throw new Reject({
      errno: 'EINVAL',
      message: 'div by zero',
      insn: i,
      hint: 'a division by the constant 0 is refused; at run time a zero register divisor gives 0',
      rule: 'division by the constant zero',
    });
    if ((o === op.BPF_LSH || o === op.BPF_RSH || o === op.BPF_ARSH) && (ins.imm < 0 || ins.imm >= (alu32 ? 32 : 64)))
      throw new Reject({
        errno: 'EINVAL',
        message: `invalid shift ${ins.imm}`,
        insn: i,
        hint: `shift counts must be in 0..${alu32 ? 31 : 63}`,
        rule: 'a shift by a constant at least the operand width',
      });
    src = immOperand(ins.imm, alu32);
  }
  if (ins.dst === op.REG_FP) env.writeReg(10, d);
  if (x && (o === op.BPF_DIV || o === op.BPF_MOD) && src.type === 'scalar') {
    // For the engines: whether every path reaching this division has a non-zero divisor.
    const nz = alu32 ? src.s.u32min > 0 : src.s.umin > 0n;
    const a = (env.aux[i] ??= {});
    a.nonZeroDivisor = (a.nonZeroDivisor ?? true) && nz;
  }
  if (d.type === 'scalar' && src.type === 'scalar') {
    const id = d.id, addConst = d.addConst;
    // The result is a new scalar register: the destination itself when this state holds it alone
    // (Frame.reg: a register shared with a stored state is copied first), changed in place rather
    // than a new register and Scalar per instruction; a new one when it is also the operand.
    let r: Reg;
    if (d === src) r = Reg.scalar(d.s.clone());
    else {
      r = env.cur.cur.reg(ins.dst);
      r.id = 0;
      r.addConst = false;
      r.linkOff = 0;
    }
    // Adding or subtracting a constant that fits in s32 keeps the link to the copies of the
    // register (BPF_ADD_CONST), the offset negated for a subtraction, S32_MIN's excepted (Linux
    // 6.18's adjust_reg_min_max_vals; 6.12 linked additions of 0..S32_MAX only: `r2 += -72`
    // shows as `id=N-72` in 6.18's log). A register already so offset loses its link.
    if (env.privileged && (o === op.BPF_ADD || o === op.BPF_SUB) && !alu32 && id && src.s.isConst()) {
      const val = BigInt.asIntN(64, src.s.varOff.value);
      const fits = val >= -0x80000000n && val <= 0x7fffffffn && !(o === op.BPF_SUB && val === -0x80000000n);
      if (!addConst && fits) {
        r.id = id;
        r.addConst = true;
        r.linkOff = o === op.BPF_SUB ? -Number(val) : Number(val);
      }
    }
    scalarAlu(o, r.s, src.s, alu32);
    env.writeReg(ins.dst, r);
    return;
  }
  // At least one pointer.
  if (d.isPointer && src.isPointer) {
    if (o === op.BPF_SUB && env.privileged && !alu32) {
      env.writeReg(ins.dst, Reg.unknown());
      return;
    }
    throw new Reject({
      errno: 'EACCES',
      message: `R${ins.dst} pointer ${aluName(o)} pointer prohibited`,
      insn: i,
      regs: [ins.dst, ins.src],
      rule: 'arithmetic combining two pointers is not allowed (only ptr - ptr for privileged programs)',
    });
  }
  if (alu32) {
    // 32-bit ALU on a pointer: only subtraction, by privileged programs, giving a meaningless scalar.
    if (o === op.BPF_SUB && env.privileged) {
      env.writeReg(ins.dst, Reg.unknown());
      return;
    }
    throw new Reject({
      errno: 'EACCES',
      message: `R${ins.dst} 32-bit pointer arithmetic prohibited`,
      insn: i,
      regs: [ins.dst, x ? ins.src : -1],
      rule: 'pointers can only be moved with 64-bit arithmetic',
    });
  }
  if (d.isPointer) env.writeReg(ins.dst, ptrArith(env, o, ins.dst, d, src, x ? ins.src : -1));
  else {
    if (o === op.BPF_SUB) throw new Reject({
      errno: 'EACCES',
      message: `R${ins.dst} tried to subtract pointer from scalar`,
      insn: i,
      regs: [ins.dst, ins.src],
    });
    env.writeReg(ins.dst, ptrArith(env, o, ins.src, src, d, ins.dst));
  }
}

/**
 * The source operand of an instruction with an immediate (BPF_K): the known
 * scalar imm, zero-extended for a 32-bit op, sign-extended to 64 bits
 * otherwise, as the kernel reads it. Every ALU and conditional jump with an
 * immediate needs one and only reads it, so one frozen register per value is
 * shared (a write into it throws: an internal error, never a changed
 * operand) instead of a register, a scalar and their bigints built per
 * instruction visited. The caches are bounded: a program with more distinct
 * immediates starts them afresh.
 */
export function immOperand(imm: number, as32: boolean): Reg {
  // The commonest immediates (small offsets, sizes, flags) from an array: a Map lookup of a
  // number key was a per-instruction cost of its own.
  const k = imm + IMM_DENSE_BIAS;
  if (k >= 0 && k < IMM_DENSE) {
    const dense = as32 ? IMM32_DENSE : IMM64_DENSE;
    return (dense[k] ??= frozenKnown(as32 ? BigInt(imm >>> 0) : BigInt(imm)));
  }
  const cache = as32 ? IMM32 : IMM64;
  let r = cache.get(imm);
  if (r) return r;
  if (cache.size >= IMM_CACHE_MAX) cache.clear();
  r = frozenKnown(as32 ? BigInt(imm >>> 0) : BigInt(imm));
  cache.set(imm, r);
  return r;
}
function frozenKnown(v: bigint): Reg {
  const r = Reg.known(v);
  Object.freeze(r.s.varOff);
  Object.freeze(r.s);
  return Object.freeze(r);
}
const IMM_CACHE_MAX = 4096;
const IMM32 = new Map<number, Reg>(), IMM64 = new Map<number, Reg>();
/** Immediates in [-IMM_DENSE_BIAS, IMM_DENSE - IMM_DENSE_BIAS) are cached by index. */
const IMM_DENSE_BIAS = 512, IMM_DENSE = 2048;
const IMM32_DENSE: (Reg | undefined)[] = new Array(IMM_DENSE).fill(undefined);
const IMM64_DENSE: (Reg | undefined)[] = new Array(IMM_DENSE).fill(undefined);

/** adjust_ptr_min_max_vals: ptr OP scalar. */
function ptrArith(env: Verifier, o: number, pr: number, ptr: Reg, off: Reg, offr: number): Reg {
  const i = env.idx;
  const tname = regTypeStr(ptr);
  if (ptr.maybeNull)
    throw new Reject({
      errno: 'EACCES',
      message: `R${pr} pointer arithmetic on ${tname} prohibited, null-check it first`,
      insn: i,
      regs: [pr],
      hint: 'compare the pointer with 0 (`if (!p) return ...`) before doing arithmetic on it',
      rule: 'pointer arithmetic on a pointer that may be NULL',
    });
  // adjust_ptr_min_max_vals: data_end never moves; a map pointer only by adding a known 0 (the kernel
  // allows `r = 0; r += map_ptr`); a function pointer may move (it must be back at offset 0 to be called)
  // (the socket pointers never move: adjust_ptr_min_max_vals' default case)
  // (the flow keys move by known amounts only)
  if (ptr.type === 'pkt_end' || isSock(ptr) || (ptr.type === 'flow_keys' && !off.s.isConst()) || (ptr.type === 'map_ptr' && !(o === op.BPF_ADD && off.s.isConst() && off.s.varOff.value === 0n)))
    throw new Reject({
      errno: 'EACCES',
      message: `R${pr} pointer arithmetic on ${tname} prohibited`,
      insn: i,
      regs: [pr],
      rule: `arithmetic on a ${tname} pointer is not allowed`,
    });
  if (o !== op.BPF_ADD && o !== op.BPF_SUB) {
    // Only adding and subtracting offsets keep a pointer a pointer; the kernel refuses the rest outright.
    if (o === op.BPF_AND || o === op.BPF_OR || o === op.BPF_XOR)
      throw new Reject({
        errno: 'EACCES',
        message: `R${pr} bitwise operator ${aluName(o)} on pointer prohibited`,
        insn: i,
        regs: [pr],
        rule: 'bitwise operations on pointers are not allowed',
      });
    throw new Reject({
      errno: 'EACCES',
      message: `R${pr} pointer arithmetic with ${aluName(o)} operator prohibited`,
      insn: i,
      regs: [pr],
      rule: `the ${aluName(o)} operator cannot be applied to a pointer`,
    });
  }
  if (o === op.BPF_SUB && ptr.type === 'fp')
    throw new Reject({
      errno: 'EACCES',
      message: `R${pr} subtraction from stack pointer prohibited`,
      insn: i,
      regs: [pr],
      hint: 'add a negative offset instead (`r2 += -16`)',
      rule: 'a stack pointer can only be moved by adding',
    });
  const s = off.s;
  const r = ptr.clone();
  // The four bounds refusals below are check_reg_sane_offset's, which adjust_ptr_min_max_vals
  // turns into EINVAL (not the EACCES of its other refusals).
  if (s.isConst()) {
    const v = BigInt.asIntN(64, s.varOff.value);
    if (v >= BigInt(BPF_MAX_VAR_OFF) || v <= -BigInt(BPF_MAX_VAR_OFF))
      throw new Reject({ errno: 'EINVAL', message: `math between ${tname} pointer and ${v} is not allowed`, insn: i, regs: [pr, offr] });
    r.off = o === op.BPF_ADD ? ptr.off + Number(v) : ptr.off - Number(v);
    if (Math.abs(r.off) >= BPF_MAX_VAR_OFF) throw new Reject({
      errno: 'EINVAL',
      message: `value ${r.off} makes ${tname} pointer be out of bounds`,
      insn: i,
      regs: [pr, offr],
    });
    // Linux keeps an at/beyond-data_end mark (mark_pkt_end) through constant moves, even a
    // subtraction that brings the pointer back inside the packet, and would then call a branch
    // dead that runs. tsbpf drops the mark instead: it only ever decides branches, so losing it
    // costs at most a path explored.
    if (r.isPkt && r.range < 0) r.range = 0;
    return r;
  }
  if (s.smin <= -BigInt(BPF_MAX_VAR_OFF) && o === op.BPF_ADD)
    throw new Reject({
      errno: 'EINVAL',
      message: `math between ${tname} pointer and register with unbounded min value is not allowed`,
      insn: i,
      regs: [pr, offr],
      hint: 'bound the offset first, e.g. `if (idx >= N) return ...` or `idx &= N - 1`',
      rule: 'a pointer is moved by a value with no lower bound',
    });
  if (!env.privileged && ptr.type === 'fp')
    throw new Reject({
      errno: 'EACCES',
      message: `R${pr} variable stack access prohibited for !root, var_off=${tnumStr(s.varOff)} off=${ptr.off}`,
      insn: i,
      regs: [pr, offr],
    });
  if (ptr.type === 'ctx') {
    // Allowed, but any access through it is then refused (dereference of modified ctx ptr).
  }
  const ps = ptr.s;
  const n = new Scalar();
  if (o === op.BPF_ADD) {
    const a = ps.smin + s.smin, b = ps.smax + s.smax;
    if (a < -(1n << 63n) || b > (1n << 63n) - 1n) { n.smin = -(1n << 63n); n.smax = (1n << 63n) - 1n; } else { n.smin = a; n.smax = b; }
    const c = ps.umin + s.umin, e = ps.umax + s.umax;
    if (e > (1n << 64n) - 1n) { n.umin = 0n; n.umax = (1n << 64n) - 1n; } else { n.umin = c; n.umax = e; }
    n.varOff = tnumAdd(ps.varOff, s.varOff);
  } else {
    const a = ps.smin - s.smax, b = ps.smax - s.smin;
    if (a < -(1n << 63n) || b > (1n << 63n) - 1n) { n.smin = -(1n << 63n); n.smax = (1n << 63n) - 1n; } else { n.smin = a; n.smax = b; }
    if (ps.umin < s.umax) { n.umin = 0n; n.umax = (1n << 64n) - 1n; } else { n.umin = ps.umin - s.umax; n.umax = ps.umax - s.umin; }
    n.varOff = tnumSub(ps.varOff, s.varOff);
  }
  n.sync();
  const sminOut = n.smin <= -BigInt(BPF_MAX_VAR_OFF) || n.smin >= BigInt(BPF_MAX_VAR_OFF);
  if (sminOut || n.smax >= BigInt(BPF_MAX_VAR_OFF)) {
    // check_reg_sane_offset (EINVAL) looks at smin only. A pointer whose smax alone is out of
    // bounds gets through it; for root (bypass_spec_v1) sanitize_check_bounds checks nothing
    // more, so the pointer stands (it may still be compared, or handed to a helper as a number,
    // as bpf_probe_read_kernel's source is) and its first access is refused (EACCES; the access
    // checks look at umax). Without root this stays refused here.
    if ((ptr.type !== 'fp' || !env.privileged) && (sminOut || !env.privileged))
      throw new Reject({
        errno: sminOut ? 'EINVAL' : 'EACCES',
        message: `value ${n.smin <= -BigInt(BPF_MAX_VAR_OFF) ? n.smin : n.smax} makes ${tname} pointer be out of bounds`,
        insn: i,
        regs: [pr, offr],
        hint: 'bound the offset before adding it (e.g. `if (off > 64) return ...`)',
        rule: 'a pointer is moved by a value whose bounds are too wide',
      });
  }
  r.s = n;
  if (ptr.isPkt) {
    // A new variable offset: the learned packet range no longer applies.
    r.id = env.newId();
    r.range = 0;
  }
  return r;
}

/** The kernel's bpf_alu_string: operators as its messages print them. */
function aluName(o: number): string {
  const names: Record<number, string> = {
    [op.BPF_ADD]: '+=', [op.BPF_SUB]: '-=', [op.BPF_MUL]: '*=', [op.BPF_DIV]: '/=', [op.BPF_OR]: '|=', [op.BPF_AND]: '&=',
    [op.BPF_LSH]: '<<=', [op.BPF_RSH]: '>>=', [op.BPF_NEG]: 'neg', [op.BPF_MOD]: '%=', [op.BPF_XOR]: '^=', [op.BPF_MOV]: '=',
    [op.BPF_ARSH]: 's>>=', [op.BPF_END]: 'endian',
  };
  return names[o] ?? '?';
}
