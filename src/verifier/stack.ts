/**
 * The stack's access rules (what must hold for an access through a frame
 * pointer) and its transfer (what a store or a fill makes of the slots):
 * fixed- and variable-offset reads and writes of the 512-byte frame, spills
 * and fills of registers, the per-function depth. Follows the kernel's
 * check_stack_access_within_bounds, check_stack_write_fixed_off /
 * check_stack_write_var_off, check_stack_read_fixed_off /
 * check_stack_read_var_off and update_stack_depth (kernel/bpf/verifier.c).
 * The slots themselves are state.ts's StackSlot.
 */
import * as op from '../isa/opcodes.js';
import { Reg } from './types.js';
import { tnumStr } from './tnum.js';
import { Reject } from './reject.js';
import { BPF_MAX_VAR_OFF, type Verifier } from './env.js';
import { loadedScalar } from './ldst.js';
import { Frame, shareReg, type StackSlot, STACK_MISC, STACK_SPILL, STACK_ZERO, STACK_INVALID, STACK_ITER, STACK_DYNPTR } from './state.js';
import { destroyIfDynptr, refuseWriteOverDynptr } from './dynptr.js';

/** Which frame a stack pointer points into. */
export function frameOf(env: Verifier, r: Reg): Frame {
  return env.cur.frames[r.frameno]!;
}

function noteDepth(env: Verifier, f: Frame, lowest: number): void {
  const k = env.cfg.subprogOf[f.subprog]!;
  const d = -lowest;
  if (d > (env.stackDepth[k] ?? 0)) env.stackDepth[k] = d;
}

export function stackAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, val: Reg | undefined, imm: bigint | undefined, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const f = frameOf(env, base);
  // check_stack_write_var_off's writing_zero: a register known to be 0, or BPF_ST of 0
  const zero = write && (val ? val.type === 'scalar' && val.s.isConst() && val.s.varOff.value === 0n : imm === 0n);
  if (!base.s.isConst()) return stackAccessVar(env, ptrReg, base, off, size, write, f, zero);
  const o = base.off + off + Number(BigInt.asIntN(64, base.s.varOff.value));
  if (o < -op.MAX_BPF_STACK || o + size > 0) {
    throw new Reject({
      errno: 'EACCES',
      message: `invalid ${write ? 'write to' : 'read from'} stack R${ptrReg} off=${o} size=${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `the stack is the ${op.MAX_BPF_STACK} bytes below r10: offsets -${op.MAX_BPF_STACK}..-1`,
      rule: 'the stack access is outside the 512-byte stack frame',
    });
  }
  if (o % size !== 0) {
    throw new Reject({
      errno: 'EACCES',
      message: `misaligned stack access off ${tnumStr(base.s.varOff)}+${base.off}+${off} size ${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `stack accesses of ${size} bytes must be ${size}-byte aligned`,
      rule: 'the stack access is misaligned',
    });
  }
  noteDepth(env, f, o);
  const spi = Math.floor((-o - 1) / 8);
  if (env.logLevel > 1 && f === env.cur.cur) env.scratchSlots.add(spi);
  if (write) {
    stackWrite(env, f, o, size, val, imm);
    return undefined;
  }
  noteLoadThroughCopy(env, ptrReg, f, o, o + size);
  return stackRead(env, ptrReg, f, o, size, signExtend);
}

/** A load of the executing frame's stack through a pointer other than r10: what it read (precision.ts StackReadsSeen). */
function noteLoadThroughCopy(env: Verifier, ptrReg: number, f: Frame, lo: number, hi: number): void {
  if (ptrReg === 10 || f !== env.cur.cur || op.classOf(env.insns[env.idx]!.code) !== op.BPF_LDX) return;
  env.marks.noteStackRead(env.idx, lo, hi);
}

function stackWrite(env: Verifier, f: Frame, o: number, size: number, val: Reg | undefined, imm: bigint | undefined): void {
  const i = env.idx;
  const spi = Math.floor((-o - 1) / 8);
  const slot = f.slot(spi);
  scrubIter(slot);
  const aligned = (-o) % 8 === 0;
  // check_stack_write_fixed_off: without pointer leaks allowed, a narrower store may not overwrite
  // part of a spilled pointer (the bytes left would read back as a number holding half of it).
  if (!env.privileged && size !== 8 && slot.isSpill && slot.spilled && slot.spilled.type !== 'scalar') throw new Reject({
    errno: 'EACCES',
    message: 'attempt to corrupt spilled pointer on stack',
    insn: i,
    hint: 'overwrite a spilled pointer with a whole 8-byte store',
    rule: 'a narrower store overwrites part of a spilled pointer',
  });
  // destroy_if_dynptr_stack_slot: the store destroys a dynptr there (refused for a referenced one)
  if (slot.t[0] === STACK_DYNPTR) destroyIfDynptr(env, f, spi);
  // is_spillable_regtype: PTR_TO_TP_BUFFER is not one of the kernel's spillable types; a store of
  // it, at any width, is plain data (STACK_MISC) and reads back as a number
  if (val?.type === 'tp_buffer') return plainWrite(f, slot, o, size, false);
  // check_stack_write_fixed_off: a privileged spill of a scalar whose value fits the store's width
  // first gives the register an id (assign_scalar_id_before_mov), so that the register and the slot,
  // and any register later filled from it, learn the same bounds from a comparison (sync_linked_regs).
  if (val && aligned && env.privileged && val.type === 'scalar' && (size === 8 || val.s.umax < (1n << BigInt(size * 8))))
    val = env.idBeforeMov(val);
  if (val && size === 8 && aligned) {
    // check_stack_write_fixed_off: a stack pointer may not be spilled into a caller's frame
    // (the caller's slot would outlive the callee's frame the pointer may point into).
    if (val.type === 'fp' && f !== env.cur.cur) throw new Reject({
      errno: 'EINVAL',
      message: 'cannot spill pointers to stack into stack frame of the caller',
      insn: i,
      hint: 'store stack pointers only in the function\'s own stack frame',
      rule: 'a stack pointer is written into a caller\'s stack frame',
    });
    // A whole-register spill keeps the register state (save_register_state); the kernel records
    // it in the path's history when it is a pointer or a privileged scalar.
    if (env.privileged || val.type !== 'scalar') env.noteInsnHist();
    slot.t.fill(STACK_SPILL);
    // the slot and the register share one object (state.ts shareReg): a change of either copies it
    shareReg(val);
    slot.spilled = val;
    return;
  }
  if (val?.isPointer && env.privileged === false) throw new Reject({ errno: 'EACCES', message: 'invalid size of register spill', insn: i });
  if (val?.isPointer) throw new Reject({
    errno: 'EACCES',
    message: 'invalid size of register spill',
    insn: i,
    hint: 'spill pointers with 8-byte stores at 8-byte aligned offsets',
    rule: 'a pointer is stored with a partial-width store',
  });
  if (val && val.type === 'scalar' && aligned && env.privileged) {
    // (check_stack_write_fixed_off keeps INSN_F_STACK_ACCESS for any privileged scalar spill at a slot boundary)
    env.noteInsnHist();
    // A narrower spill of a scalar keeps its value when it fits (the kernel tracks 1/2/4-byte spills too).
    const fits = val.s.umax < (1n << BigInt(size * 8));
    const wasSpill = slot.isSpill;
    if (wasSpill || slot.spilled) { for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC; }
    if (fits) {
      for (let j = 8 - size; j < 8; j++) slot.t[j] = STACK_SPILL;
      // (mark_stack_slot_misc: the bytes below the spill keep STACK_ZERO and STACK_INVALID)
      for (let j = 0; j < 8 - size; j++) if (slot.t[j] !== STACK_INVALID && slot.t[j] !== STACK_ZERO) slot.t[j] = STACK_MISC;
      slot.spilled = val.clone();
      return;
    }
  }
  const zero = (val !== undefined && val.isNull) || (imm !== undefined && imm === 0n);
  if (imm !== undefined && aligned && env.privileged) {
    // check_stack_write_fixed_off: a privileged BPF_ST at a slot boundary spills the immediate
    // (sign-extended) as a known scalar of the store's width, like a register spill, so that
    // fills count its bytes as a spill, not as STACK_ZERO/STACK_MISC.
    env.noteInsnHist();
    if (slot.isSpill || slot.spilled) { for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC; }
    for (let j = 8 - size; j < 8; j++) slot.t[j] = STACK_SPILL;
    for (let j = 0; j < 8 - size; j++) if (slot.t[j] !== STACK_INVALID && slot.t[j] !== STACK_ZERO) slot.t[j] = STACK_MISC;
    slot.spilled = Reg.known(imm);
    return;
  }
  plainWrite(f, slot, o, size, zero);
}

/** A store that spills no register: it destroys a spilled register in the slot and marks the bytes STACK_ZERO or STACK_MISC. */
function plainWrite(f: Frame, slot: StackSlot, o: number, size: number, zero: boolean): void {
  if (slot.isSpill || slot.spilled) {
    for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC;
    slot.spilled = null;
  }
  for (let b = 0; b < size; b++) {
    const byte = -(o + b) - 1;
    const s = f.slot(Math.floor(byte / 8));
    s.t[byte % 8] = zero ? STACK_ZERO : STACK_MISC;
  }
}

/**
 * scrub_special_slot: a store into an iterator's slot is not refused; it turns the whole slot
 * into STACK_MISC (the iterator is gone: its _next and _destroy now fail, and its reference is
 * never released: "Unreleased reference").
 */
function scrubIter(slot: StackSlot): void {
  if (!slot.iter) return;
  for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_ITER) slot.t[j] = STACK_MISC;
  slot.iter = null;
}

function stackRead(env: Verifier, ptrReg: number, f: Frame, o: number, size: number, signExtend: boolean): Reg {
  const i = env.idx;
  const spi = Math.floor((-o - 1) / 8);
  const slot = f.stack[spi];
  if (slot && slot.isSpill && slot.spilled) {
    const sp = slot.spilled;
    const aligned = (-o) % 8 === 0;
    let spillBytes = 0;
    for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) spillBytes++;
    // check_stack_read_fixed_off: only a whole 8-byte spill read back whole is the register; an
    // 8-byte read over a narrower spill is built from the slot's bytes below.
    if (size === 8 && aligned && spillBytes === 8) {
      env.noteInsnHist(); // a register fill (INSN_F_STACK_ACCESS kept)
      // the register and the slot share one object (state.ts shareReg): a change of either copies it
      shareReg(sp);
      return sp;
    }
    if (sp.type !== 'scalar') {
      throw new Reject({
        errno: 'EACCES',
        message: 'invalid size of register fill',
        insn: i,
        regs: [ptrReg],
        hint: 'read spilled pointers back with an 8-byte load',
        rule: 'a spilled pointer is read back with a partial load',
      });
    }
    // A narrower fill from the spill's first byte (bpf_stack_narrow_access_ok, little-endian) is the
    // spilled scalar cut to the width; it stays linked to the spill while the value fits the width
    // (check_stack_read_fixed_off breaks the relation only on a narrowing fill). A sign-extending
    // fill may change the value, so it is never linked.
    if (aligned && size <= spillBytes) {
      env.noteInsnHist();
      const r = sp.clone();
      if (size < 8) {
        const fits = r.s.umax < (1n << BigInt(size * 8));
        if (signExtend) r.s.signExtend(size as 1 | 2 | 4);
        else r.s.truncate(size);
        if (signExtend || !fits) { r.id = 0; r.addConst = false; r.linkOff = 0; }
      }
      return r;
    }
    // Any other part of a spilled scalar reads as an unknown value of that width, but zero when every
    // byte read is part of a spilled zero or every byte is STACK_ZERO (the kernel's spill_cnt/zero_cnt).
    const byte0 = -o - 1;
    let spillCnt = 0, zeroCnt = 0;
    for (let b = 0; b < size; b++) {
      const t = slot.t[(byte0 - b) % 8]!;
      if (t === STACK_SPILL) spillCnt++;
      else if (t === STACK_ZERO) zeroCnt++;
      else if (t === STACK_INVALID && !env.privileged) throw new Reject({
        errno: 'EACCES',
        message: `invalid read from stack off ${o}+${b} size ${size}`,
        insn: i,
        regs: [ptrReg],
      });
    }
    // (a fill of a spilled zero keeps INSN_F_STACK_ACCESS; one of STACK_ZERO bytes does not)
    if (spillCnt === size && sp.isNull) {
      env.noteInsnHist();
      return Reg.known(0n);
    }
    if (zeroCnt === size) return Reg.known(0n);
    return loadedScalar(size, signExtend);
  }
  let allZero = true;
  for (let b = 0; b < size; b++) {
    const byte = -(o + b) - 1;
    const s = f.stack[Math.floor(byte / 8)];
    const t = s ? s.t[byte % 8]! : STACK_INVALID;
    if (t === STACK_ZERO) continue;
    allZero = false;
    if (t === STACK_MISC || t === STACK_SPILL) continue;
    if (t === STACK_INVALID && env.privileged) continue;
    throw new Reject({
      errno: 'EACCES',
      message: `invalid read from stack off ${o}+${b} size ${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `write fp${o + b} before reading it (initialise the variable or the whole struct, e.g. with __builtin_memset)`,
      rule: 'the stack bytes read were never written on this path',
    });
  }
  if (allZero) return Reg.known(0n);
  return loadedScalar(size, signExtend);
}

/** A stack access through a pointer with a variable offset (check_stack_read_var_off / write_var_off). */
function stackAccessVar(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, f: Frame, zero = false): Reg | undefined {
  const i = env.idx;
  const s = base.s;
  if (!env.privileged)
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} variable stack access prohibited for !root, var_off=${tnumStr(s.varOff)} off=${base.off + off}`,
      insn: i,
      regs: [ptrReg],
    });
  const min = s.smin + BigInt(base.off + off), max = s.smax + BigInt(base.off + off);
  if (s.smin <= -BigInt(BPF_MAX_VAR_OFF) || s.smax >= BigInt(BPF_MAX_VAR_OFF))
    throw new Reject({
      errno: 'EACCES',
      message: `invalid unbounded variable-offset ${write ? 'write to' : 'read from'} stack R${ptrReg}`,
      insn: i,
      regs: [ptrReg],
      hint: 'bound the index before using it to address the stack',
      rule: 'the stack offset has no bounds',
    });
  if (min < -BigInt(op.MAX_BPF_STACK) || max + BigInt(size) > 0n)
    throw new Reject({
      errno: 'EACCES',
      message: `invalid variable-offset ${write ? 'write to' : 'read from'} stack R${ptrReg} var_off=${tnumStr(s.varOff)} off=${base.off + off} size=${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `the offset can range over ${min}..${max}, outside the stack`,
      rule: 'the variable stack access may leave the stack frame',
    });
  const lo = Number(min), hi = Number(max) + size;
  noteDepth(env, f, lo);
  if (!write) noteLoadThroughCopy(env, ptrReg, f, lo, hi);
  // check_stack_write_var_off: every dynptr the write may touch is destroyed first
  if (write) for (let a = lo; a < hi; a++) destroyIfDynptr(env, f, Math.floor((-a - 1) / 8));
  for (let a = lo; a < hi; a++) {
    const byte = -a - 1;
    const slot = f.slot(Math.floor(byte / 8));
    if (write) {
      // a spilled scalar 0 stays a spilled 0 when the value written is zero
      const sp = slot.spilled;
      if (zero && sp && sp.type === 'scalar' && sp.s.isConst() && sp.s.varOff.value === 0n) continue;
      if (slot.isSpill || slot.spilled) {
        for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC;
        slot.spilled = null;
      }
      // A variable write may or may not hit each byte: only bytes already written stay initialised,
      // and a byte known zero stays zero when the value written is zero too.
      if ((slot.t[byte % 8] === STACK_ZERO && !zero) || slot.t[byte % 8] === STACK_ITER) slot.t[byte % 8] = STACK_MISC;
      if (hi - lo === size && !(zero && slot.t[byte % 8] === STACK_ZERO)) slot.t[byte % 8] = STACK_MISC;
    } else {
      const t = slot.t[byte % 8]!;
      if ((t === STACK_INVALID && !env.privileged) || t === STACK_ITER || t === STACK_DYNPTR)
        throw new Reject({
          errno: 'EACCES',
          message: `invalid read from stack R${ptrReg} var_off ${tnumStr(s.varOff)}+${base.off + off} size ${size}`,
          insn: i,
          regs: [ptrReg],
        });
    }
  }
  return write ? undefined : loadedScalar(size, false);
}

/**
 * check_helper_mem_access for a stack pointer: `size` bytes from it, within the frame; a helper's
 * write makes them STACK_MISC, a read needs them written (root may pass uninitialised bytes).
 */
export function stackHelperAccess(env: Verifier, r: number, reg: Reg, size: number, write: boolean): void {
  const i = env.idx;
  const f = frameOf(env, reg);
  const s = reg.s;
  const lo = Number(s.smin) + reg.off, hi = Number(s.smax) + reg.off + size;
  if (!s.isConst() && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${r} variable stack access prohibited for !root`,
    insn: i,
    regs: [r],
  });
  // check_stack_access_within_bounds: the lowest byte within [-512, -1] and the end at most 0 (so a zero-sized access at fp+0 is refused too)
  const how = write ? 'write to' : 'read from';
  if (!s.isConst() && (s.smin <= -BigInt(BPF_MAX_VAR_OFF) || s.smax >= BigInt(BPF_MAX_VAR_OFF)))
    throw new Reject({
      errno: 'EACCES',
      message: `invalid unbounded variable-offset ${how} stack R${r}`,
      insn: i,
      regs: [r],
      hint: 'bound the offset before passing the pointer',
      rule: 'the stack offset has no bounds',
    });
  if (lo < -op.MAX_BPF_STACK || lo > -1 || hi > 0)
    // EACCES when the first byte is outside the stack (check_stack_slot_within_bounds), EINVAL when the end is past fp
    throw new Reject({
      errno: lo < -op.MAX_BPF_STACK || lo > -1 ? 'EACCES' : 'EINVAL',
      message: s.isConst() ? `invalid ${how} stack R${r} off=${lo} size=${size}` : `invalid variable-offset ${how} stack R${r} var_off=${tnumStr(s.varOff)} off=${reg.off} size=${size}`,
      insn: i,
      regs: [r],
      hint: `the buffer passed in R${r} must lie within the 512-byte stack`,
      rule: 'the helper would access memory outside the stack',
    });
  noteDepth(env, f, lo);
  if (write) {
    refuseWriteOverDynptr(env, f, lo, hi);
    for (let a = lo; a < hi; a++) {
      const byte = -a - 1;
      const slot = f.slot(Math.floor(byte / 8));
      scrubIter(slot);
      if (slot.isSpill || slot.spilled) {
        for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC;
        slot.spilled = null;
      }
      slot.t[byte % 8] = STACK_MISC;
      if (env.logLevel > 1 && f === env.cur.cur) env.scratchSlots.add(Math.floor(byte / 8));
    }
    return;
  }
  if (!s.isConst()) {
    for (let a = lo; a < hi; a++) {
      const byte = -a - 1;
      const t = f.stack[Math.floor(byte / 8)]?.t[byte % 8] ?? STACK_INVALID;
      if ((t === STACK_INVALID && !env.privileged) || t === STACK_ITER || t === STACK_DYNPTR) throw new Reject({
        errno: 'EACCES',
        message: `invalid indirect read from stack R${r} var_off ${tnumStr(s.varOff)}+${reg.off} size ${size}`,
        insn: i,
        regs: [r],
      });
    }
    return;
  }
  const start = reg.off + Number(BigInt.asIntN(64, s.varOff.value));
  for (let b = 0; b < size; b++) {
    const byte = -(start + b) - 1;
    const slot = f.stack[Math.floor(byte / 8)];
    const t = slot ? slot.t[byte % 8]! : STACK_INVALID;
    if (t !== STACK_INVALID && t !== STACK_ITER && t !== STACK_DYNPTR) continue;
    if (env.privileged && t === STACK_INVALID) {
      // Root may pass uninitialised stack to helpers; it reads as unknown bytes.
      f.slot(Math.floor(byte / 8)).t[byte % 8] = STACK_MISC;
      continue;
    }
    throw new Reject({
      errno: 'EACCES',
      message: `invalid read from stack R${r} off ${start}+${b} size ${size}`,
      insn: i,
      regs: [r],
      hint: `initialise the ${size}-byte buffer at fp${start} before passing it (e.g. \`__u32 key = 0;\`)`,
      rule: 'the helper would read stack bytes that were never written',
    });
  }
  return;
}
