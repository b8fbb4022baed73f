/**
 * Loads and stores (BPF_LDX, BPF_ST, BPF_STX, BPF_ATOMIC): the operand
 * checks every memory instruction shares, and the dispatch of the access to
 * the rules of the region its base pointer points into (stack.ts,
 * packet.ts, ctx.ts, map-value.ts, btf-access.ts). Follows the kernel's
 * check_load_mem / check_store_reg, check_atomic, check_mem_access and
 * save_aux_ptr_type.
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg, regTypeStr, isMemAlloc } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { Scalar } from './scalar.js';
import { strictAlignError } from './align.js';
import { mapPtrAccess, btfIdAccess } from './btf-access.js';
import { allocObjAccess } from './alloc-obj.js';
import { isSock, sockAccess } from './sock.js';
import { ctxAccess } from './ctx.js';
import { stackAccess } from './stack.js';
import { mapValueAccess, memRegionAccess } from './map-value.js';
import { packetAccess } from './packet.js';
import { flowKeysAccess } from './flow-keys.js';
import { bufAccess } from './buf.js';
import { tpBufferAccess } from './tp-buffer.js';

export function checkLdx(env: Verifier, ins: Insn): void {
  const base = env.readReg(ins.src);
  const size = op.sizeBytes(op.sizeOf(ins.code));
  const signExtend = op.modeOf(ins.code) === op.BPF_MEMSX;
  const v = memAccess(env, ins.src, base, ins.off, size, 'read', -1, signExtend);
  saveAuxPtrType(env, base);
  env.writeReg(ins.dst, v!);
}

/**
 * save_aux_ptr_type: Linux rewrites context accesses into accesses of the
 * real kernel struct (convert_ctx_accesses) and loads through kernel-object
 * pointers into BPF_PROBE_MEM loads, one rewrite per instruction, so one
 * instruction may not access the context or a PTR_TO_BTF_ID on one path and
 * other memory on another (reg_type_mismatch_ok is false for both; the
 * stack, map values, packet and memory regions are interchangeable). A load
 * through two PTR_TO_BTF_IDs of different trust or type is fine
 * (allow_trust_mismatch: it becomes the untrusted probe load). Stores pass
 * no such allowance: a store through kernel objects (a struct_ops program's
 * writes, struct-ops-access.ts) must see one type, flags included, on every
 * path; atomics are not recorded at all (Linux 6.18's
 * check_atomic_rmw records only arena pointers). tsbpf marks the kernel
 * object loads InsnAux.probeMem and the engines read 0 where no kernel
 * memory is: another pointer reaching the same load would read 0 where
 * Linux refuses.
 */
function saveAuxPtrType(env: Verifier, base: Reg, store = false): void {
  // reg_type_mismatch_ok: the context, kernel objects and each socket type are kinds of their own
  const kind = store && base.type === 'btf_id' ? `btf_id/${base.btfFlags}` : base.type === 'ctx' || base.type === 'btf_id' || isSock(base) ? base.type : 'mem';
  const prev = env.ptrTypeAt.get(env.idx);
  if (prev === undefined) env.ptrTypeAt.set(env.idx, kind);
  else if (prev !== kind)
    throw new Reject({
      errno: 'EINVAL',
      message: 'same insn cannot be used with different pointers',
      insn: env.idx,
      hint: 'use separate loads or stores for the context or a kernel object and for other memory',
      rule: `one instruction accesses ${kind === 'ctx' || prev === 'ctx' ? 'the context' : 'a kernel object (PTR_TO_BTF_ID)'} on one path and other memory on another`,
    });
}

export function checkStore(env: Verifier, ins: Insn, stx: boolean): void {
  const base = env.readReg(ins.dst);
  const size = op.sizeBytes(op.sizeOf(ins.code));
  if (stx) env.readReg(ins.src);
  memAccess(env, ins.dst, base, ins.off, size, 'write', stx ? ins.src : -1, false, stx ? undefined : BigInt(ins.imm));
  saveAuxPtrType(env, base, true);
}

export function checkAtomic(env: Verifier, ins: Insn): void {
  const size = op.sizeBytes(op.sizeOf(ins.code));
  const i = env.idx;
  // atomic_ptr_type_ok: no atomics on the context or the packet
  const atomicPtrOk = (r: Reg): boolean => !(r.type === 'ctx' || r.isPkt || r.type === 'pkt_end' || r.type === 'flow_keys');
  // check_mem_access(..., strict_alignment_once): atomics are naturally aligned on every pointer type
  const align = (ptrReg: number, r: Reg): void => {
    if (!r.isPointer || r.type === 'fp' || r.maybeNull) return;
    const e = strictAlignError(r, ins.off, size);
    if (e) throw new Reject({
      errno: 'EACCES',
      message: e,
      insn: i,
      regs: [ptrReg],
      hint: `align the ${size}-byte atomic access to a multiple of ${size}`,
      rule: 'an atomic access must be naturally aligned',
    });
  };
  if (ins.imm === op.BPF_LOAD_ACQ) {
    // dst = load_acquire(src + off): the pointer is src (check_atomic_load -> check_load_mem)
    const ptr = env.readReg(ins.src);
    align(ins.src, ptr);
    const v = memAccess(env, ins.src, ptr, ins.off, size, 'read', -1, false)!;
    if (!atomicPtrOk(ptr)) throw new Reject({
      errno: 'EACCES',
      message: `BPF_ATOMIC loads from R${ins.src} ${regTypeStr(ptr)} is not allowed`,
      insn: i,
      regs: [ins.src],
    });
    env.writeReg(ins.dst, v);
    return;
  }
  const base = env.readReg(ins.dst);
  const val = env.readReg(ins.src);
  if (ins.imm === op.BPF_STORE_REL) {
    align(ins.dst, base);
    memAccess(env, ins.dst, base, ins.off, size, 'write', ins.src, false);
    if (!atomicPtrOk(base)) throw new Reject({
      errno: 'EACCES',
      message: `BPF_ATOMIC stores into R${ins.dst} ${regTypeStr(base)} is not allowed`,
      insn: i,
      regs: [ins.dst],
    });
    return;
  }
  if (ins.imm === op.BPF_CMPXCHG) env.readReg(0);
  if (val.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${ins.src} leaks addr into mem`,
    insn: i,
    regs: [ins.src],
  });
  if (!atomicPtrOk(base))
    throw new Reject({
      errno: 'EACCES',
      message: `BPF_ATOMIC stores into R${ins.dst} ${regTypeStr(base)} is not allowed`,
      insn: i,
      regs: [ins.dst],
    });
  align(ins.dst, base);
  if (ins.imm === op.BPF_CMPXCHG && env.regs()[0]!.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: 'R0 leaks addr into mem',
    insn: i,
    regs: [0],
  });
  // Read then write the location (an atomic needs it initialised and writable).
  const old = memAccess(env, ins.dst, base, ins.off, size, 'read', -1, false)!;
  // check_stack_read_fixed_off with dst_regno -1: the atomic uses the slot as a scalar, which a
  // spilled pointer must not become for an unprivileged program (it would reach a map through
  // the fetched register, or through an add/xchg/cmpxchg of it).
  if (old.isPointer && base.type === 'fp' && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `leaking pointer from stack off ${base.off + ins.off + Number(BigInt.asIntN(64, base.s.varOff.value))}`,
    insn: i,
    regs: [ins.dst],
    hint: 'an unprivileged program may not apply an atomic operation to a stack slot that holds a pointer',
    rule: 'an atomic operation would turn a spilled pointer into a number',
  });
  memAccess(env, ins.dst, env.regs()[ins.dst]!, ins.off, size, 'write', -1, false);
  // check_atomic_rmw reads the old value into the fetch register as a load would (check_mem_access
  // with load_reg), so a spilled scalar's bounds carry over (the suite's atomic_bounds case).
  if (ins.imm === op.BPF_CMPXCHG) env.writeReg(0, old);
  else if (ins.imm & op.BPF_FETCH) env.writeReg(ins.src, old);
}

/**
 * check_mem_access: an access of `size` bytes at base+off. For reads,
 * returns what is loaded. `valReg` is the register stored (STX), `imm` the
 * constant stored (ST).
 */
function memAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, kind: 'read' | 'write', valReg: number, signExtend: boolean, imm?: bigint): Reg | undefined {
  const i = env.idx;
  const write = kind === 'write';
  const val = valReg >= 0 ? env.regs()[valReg]! : undefined;
  if (base.maybeNull) {
    throw new Reject({
      errno: 'EACCES',
      message: `R${ptrReg} invalid mem access '${regTypeStr(base)}'`,
      insn: i,
      regs: [ptrReg],
      hint: base.type === 'map_value' ? 'check the pointer returned by bpf_map_lookup_elem for NULL before dereferencing it (`if (!p) return ...`)'
        : base.type === 'mem' && base.ringbuf ? 'check the pointer returned by bpf_ringbuf_reserve for NULL before writing through it'
          : base.type === 'mem' ? 'a global function\'s pointer argument may be NULL whatever its callers pass: check it (`if (!p) return 0;`), or make the function static'
            : 'compare the pointer with NULL before dereferencing it',
      rule: 'a pointer that may be NULL is dereferenced',
    });
  }
  if (base.type === 'map_ptr') return mapPtrAccess(env, ptrReg, base, off, size, write, signExtend);
  switch (base.type) {
    case 'scalar':
    case 'pkt_end':
    case 'func':
      throw new Reject({
        errno: 'EACCES',
        message: `R${ptrReg} invalid mem access '${regTypeStr(base)}'`,
        insn: i,
        regs: [ptrReg],
        hint: base.type === 'scalar' ? 'only pointers (ctx, stack, map values, packet, ringbuf memory) can be dereferenced; this register holds a number'
          : base.type === 'pkt_end' ? 'data_end marks the end of the packet and cannot be read through; compare packet pointers with it instead' : undefined,
        rule: `R${ptrReg} is not a pointer that can be dereferenced`,
      });
    case 'ctx':
      return ctxAccess(env, ptrReg, base, off, size, write, val, signExtend);
    case 'fp':
      return stackAccess(env, ptrReg, base, off, size, write, val, imm, signExtend);
    case 'map_value':
    case 'map_key':
      return mapValueAccess(env, ptrReg, base, off, size, write, valReg, signExtend);
    case 'mem':
      return memRegionAccess(env, ptrReg, base, off, size, write, valReg, signExtend);
    case 'pkt':
    case 'pkt_meta':
      return packetAccess(env, ptrReg, base, off, size, write, valReg, signExtend);
    case 'btf_id':
      if (isMemAlloc(base.btfFlags)) return allocObjAccess(env, ptrReg, base, off, size, write, signExtend);
      return btfIdAccess(env, ptrReg, base, off, size, write, signExtend);
    case 'flow_keys':
      return flowKeysAccess(env, ptrReg, base, off, size, write, val, signExtend);
    case 'buf':
      return bufAccess(env, ptrReg, base, off, size, write, signExtend);
    case 'tp_buffer':
      return tpBufferAccess(env, ptrReg, base, off, size, write, signExtend);
    case 'sock':
    case 'sock_common':
    case 'tcp_sock':
    case 'xdp_sock':
      return sockAccess(env, ptrReg, base, off, size, write, signExtend);
  }
  throw new Reject({ errno: 'EACCES', message: `R${ptrReg} invalid mem access '${regTypeStr(base)}'`, insn: i, regs: [ptrReg] });
}

/** What a load of `size` bytes the verifier knows nothing about yields: zero-extended, or sign-extended by BPF_MEMSX. */
export function loadedScalar(size: number, signExtend: boolean): Reg {
  if (size === 8) return Reg.unknown();
  return Reg.scalar((signExtend ? LOADED_SX : LOADED_ZX)[size]!.clone());
}

/**
 * The scalars of loadedScalar by size (1, 2, 4), built once: a load is the
 * commonest instruction, and building its range afresh (tnum_range and a
 * bounds sync on bigints) gave the same scalar every time.
 */
const LOADED_ZX: Scalar[] = [], LOADED_SX: Scalar[] = [];
for (const size of [1, 2, 4] as const) {
  LOADED_ZX[size] = Scalar.urange(0n, (1n << BigInt(size * 8)) - 1n);
  const sx = Scalar.unknown();
  sx.signExtend(size);
  LOADED_SX[size] = sx;
}
