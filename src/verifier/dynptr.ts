/**
 * Dynptrs (struct bpf_dynptr: a pointer, a size and a type, kept on the program's stack), as
 * kernel/bpf/verifier.c judges them:
 *
 * - a dynptr lives in two 8-byte stack slots of the kind STACK_DYNPTR (BPF_DYNPTR_NR_SLOTS),
 *   its first slot the higher one (mark_stack_slots_dynptr); each slot remembers the dynptr's
 *   type (LOCAL, RINGBUF, SKB, XDP), whether it is the first, the id its slices carry and, for a
 *   RINGBUF dynptr, the reference bpf_ringbuf_reserve_dynptr acquired;
 * - an argument that creates one (MEM_UNINIT: bpf_dynptr_from_mem, bpf_ringbuf_reserve_dynptr,
 *   bpf_dynptr_from_skb/xdp, bpf_dynptr_clone's clone) needs two slots at a constant, aligned
 *   offset; it first writes them as a program's store would, which destroys an unreferenced
 *   dynptr there and refuses a referenced one ("cannot overwrite referenced dynptr");
 * - any other argument needs an initialised dynptr (is_dynptr_reg_valid_init) of the type the
 *   argument asks for; a ringbuf dynptr's release (submit/discard) invalidates it, its clones
 *   and every slice of them (unmark_stack_slots_dynptr);
 * - a store into a dynptr's slot (destroy_if_dynptr_stack_slot) destroys the whole dynptr and
 *   its slices, or is refused for a referenced one; a load from it is refused like one of
 *   uninitialised stack (its bytes are neither data nor a spill);
 * - bpf_user_ringbuf_drain's callback gets a CONST_PTR_TO_DYNPTR (a LOCAL dynptr the callback may
 *   read and slice, never create, change or release).
 *
 * The helpers' special cases are here (dynptrHelperChecks); the kfuncs are dynptr-kfuncs.ts.
 */
import { Reg, regTypeStr, type DynptrType } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { Frame, StackSlot } from './state.js';
import { STACK_DYNPTR, STACK_INVALID } from './state.js';
import { stackAccess } from './stack.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';

/** BPF_DYNPTR_NR_SLOTS */
const SLOTS = 2;

/** How an argument takes a dynptr (enum bpf_arg_type's ARG_PTR_TO_DYNPTR with its flags). */
export interface DynptrArgKind {
  /** MEM_UNINIT: the call creates the dynptr there */
  uninit?: boolean;
  /** MEM_RDONLY: the call does not change the dynptr (a CONST_PTR_TO_DYNPTR is accepted) */
  rdonly?: boolean;
  /** DYNPTR_TYPE_*: the type it must have (or, with uninit, gets); absent: any */
  type?: DynptrType;
  /** OBJ_RELEASE: the call releases it (only a ringbuf dynptr on the stack) */
  release?: boolean;
  /** a clone: the reference it shares with its parent */
  cloneRef?: number;
}

/** What an initialised dynptr argument is (meta->initialized_dynptr). */
export interface DynptrInfo {
  id: number;
  type: DynptrType;
  refObjId: number;
}

function reject(i: number, regno: number, errno: 'EINVAL' | 'EACCES', message: string, hint: string): never {
  throw new Reject({ errno, message, insn: i, regs: [regno], hint, rule: 'the dynptr argument is not what the call needs' });
}

/**
 * stack_slot_obj_get_spi for a dynptr: a constant, 8-byte aligned offset with both slots inside
 * the frame. Returns the first slot's index, or the message that refuses it.
 */
function dynptrSpi(reg: Reg): number | string {
  if (!reg.s.isConst()) return 'dynptr has to be at a constant offset';
  const off = reg.off + Number(BigInt.asIntN(64, reg.s.varOff.value));
  const spi = Math.floor((-off - 1) / 8);
  if (off % 8 !== 0 || spi + 1 < SLOTS) return `cannot pass in dynptr at an offset=${off}`;
  return spi;
}

/** The dynptr's first slot, when the register points to an initialised one (is_dynptr_reg_valid_init). */
function initSlot(env: Verifier, reg: Reg): { f: Frame; spi: number; d: StackSlot } | string {
  const spi = dynptrSpi(reg);
  if (typeof spi === 'string') return spi;
  const f = env.cur.frames[reg.frameno]!;
  const a = f.stack[spi], b = f.stack[spi - 1];
  if (!a?.dynptr?.first || !b) return '';
  for (let j = 0; j < 8; j++) if (a.t[j] !== STACK_DYNPTR || b.t[j] !== STACK_DYNPTR) return '';
  return { f, spi, d: a };
}

/**
 * process_dynptr_func (with check_reg_type's and check_func_arg's checks before it for
 * helpers): argument `regno` against `kind`. Creates the dynptr (MEM_UNINIT) or returns what the
 * initialised one is.
 */
export function processDynptrArg(env: Verifier, i: number, regno: number, kind: DynptrArgKind, helper: boolean): DynptrInfo | undefined {
  const reg = env.readReg(regno);
  const argNo = regno - 1;
  if (reg.type !== 'fp' && reg.type !== 'dynptr') {
    // check_reg_type (helpers) / process_dynptr_func (kfuncs)
    if (helper) reject(i, regno, 'EACCES', `R${regno} type=${regTypeStr(reg)} expected=fp, dynptr_ptr`, 'pass the address of a struct bpf_dynptr on the stack');
    reject(i, regno, 'EINVAL', `arg#${argNo} expected pointer to stack or const struct bpf_dynptr`, 'pass the address of a struct bpf_dynptr on the stack');
  }
  // __check_ptr_off_reg: a CONST_PTR_TO_DYNPTR exactly as the helper passed it
  if (reg.type === 'dynptr' && (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n))
    reject(i, regno, 'EACCES', `dereference of modified dynptr_ptr ptr R${regno} off=${reg.off} disallowed`, 'pass the dynptr pointer the callback was given, unchanged');
  if (kind.release) {
    // check_func_arg: only a dynptr on the stack that holds a reference can be released
    if (reg.type === 'dynptr') reject(i, regno, 'EINVAL', 'cannot release unowned const bpf_dynptr', 'a callback may not submit or discard the dynptr it is given');
    const spi = dynptrSpi(reg);
    const ref = typeof spi === 'number' ? env.cur.frames[reg.frameno]!.stack[spi]?.dynptr?.refObjId : 0;
    if (typeof spi === 'string') reject(i, regno, 'EINVAL', `${spi}\narg ${regno} is an unacquired reference`, 'pass the dynptr bpf_ringbuf_reserve_dynptr() initialised');
    if (!ref) reject(i, regno, 'EINVAL', `arg ${regno} is an unacquired reference`, 'pass the dynptr bpf_ringbuf_reserve_dynptr() initialised, before it is submitted or discarded');
  }
  if (kind.uninit) {
    // is_dynptr_reg_valid_uninit: a stack pointer at a usable offset (a dynptr there is overwritten below)
    const spi = reg.type === 'dynptr' ? 'a const dynptr cannot be initialised' : dynptrSpi(reg);
    if (typeof spi === 'string') {
      const pre = reg.type === 'dynptr' ? '' : `${spi}\n`;
      reject(i, regno, 'EINVAL', `${pre}Dynptr has to be an uninitialized dynptr`, 'pass the address of a 16-byte, 8-byte aligned struct bpf_dynptr on the stack');
    }
    // check_mem_access of each 8-byte word as a write: in the frame, the depth grows, and a
    // dynptr there is destroyed (or, referenced, refused)
    for (let k = 0; k < SLOTS; k++) stackAccess(env, regno, reg, k * 8, 8, true, undefined, undefined, false);
    markDynptr(env, i, reg, spi as number, kind.type!, kind.cloneRef ?? 0);
    return undefined;
  }
  if (reg.type === 'dynptr' && !kind.rdonly)
    reject(i, regno, 'EINVAL', 'cannot pass pointer to const bpf_dynptr, the helper mutates it', 'a callback may only read its dynptr');
  let info: DynptrInfo;
  if (reg.type === 'dynptr') info = { id: reg.id, type: reg.dynptrType as DynptrType, refObjId: reg.refObjId };
  else {
    const at = initSlot(env, reg);
    if (typeof at === 'string')
      reject(i, regno, 'EINVAL', `${at ? `${at}\n` : ''}Expected an initialized dynptr as arg #${argNo}`,
        'initialise the dynptr (bpf_dynptr_from_mem, bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_skb/xdp) on every path before this call, and do not overwrite or release it before');
    const d = at.d.dynptr!;
    info = { id: d.id, type: d.type, refObjId: d.refObjId };
    if (env.logLevel > 1 && at.f === env.cur.cur) { env.scratchSlots.add(at.spi); env.scratchSlots.add(at.spi - 1); }
  }
  // is_dynptr_type_expected
  if (kind.type && info.type !== kind.type)
    reject(i, regno, 'EINVAL', `Expected a dynptr of type ${kind.type} as arg #${argNo}`, `pass a ${kind.type} dynptr`);
  return info;
}

/** mark_stack_slots_dynptr: both slots hold the dynptr; a ringbuf one holds a reference (a clone its parent's). */
function markDynptr(env: Verifier, i: number, reg: Reg, spi: number, type: DynptrType, cloneRef: number): void {
  const f = env.cur.frames[reg.frameno]!;
  destroyIfDynptr(env, f, spi);
  destroyIfDynptr(env, f, spi - 1);
  const id = env.newId();
  let ref = 0;
  if (type === 'ringbuf') {
    ref = cloneRef;
    if (!ref) {
      ref = env.newId();
      env.cur.refs.push({ id: ref, insn: i });
    }
  }
  for (let k = 0; k < SLOTS; k++) {
    const s = f.slot(spi - k);
    s.t.fill(STACK_DYNPTR);
    s.spilled = null;
    s.iter = null;
    s.dynptr = { type, first: k === 0, id, refObjId: ref };
    if (env.logLevel > 1 && f === env.cur.cur) env.scratchSlots.add(spi - k);
  }
}

/** invalidate_dynptr: both slots become never written. */
function invalidateDynptr(f: Frame, spi: number): void {
  for (const k of [spi, spi - 1]) {
    const s = f.slot(k);
    s.t.fill(STACK_INVALID);
    s.dynptr = null;
  }
}

/** mark_reg_invalid: a pointer that lost its object (unknown for root, unusable otherwise). */
function invalidate(env: Verifier, match: (r: Reg) => boolean): void {
  for (const r of env.cur.allRegs(match)) Object.assign(r, env.privileged ? Reg.unknown() : Reg.notInit());
}

/**
 * destroy_if_dynptr_stack_slot: a write into slot `spi` of a dynptr destroys the dynptr (both
 * slots never written, its slices invalid) unless it holds a reference, which is refused.
 */
export function destroyIfDynptr(env: Verifier, f: Frame, spi: number): void {
  let s = f.stack[spi];
  if (!s || s.t[0] !== STACK_DYNPTR || !s.dynptr) return;
  if (!s.dynptr.first) { spi++; s = f.stack[spi]!; }
  const d = s.dynptr!;
  if (d.type === 'ringbuf')
    throw new Reject({
      errno: 'EINVAL',
      message: 'cannot overwrite referenced dynptr',
      insn: env.idx,
      hint: 'submit or discard the ringbuf dynptr (bpf_ringbuf_submit_dynptr / _discard_dynptr) before reusing its stack slots',
      rule: 'a store would destroy a dynptr that holds a ring buffer reservation',
    });
  if (env.logLevel > 1 && f === env.cur.cur) { env.scratchSlots.add(spi); env.scratchSlots.add(spi - 1); }
  invalidateDynptr(f, spi);
  // (only slices typed exactly PTR_TO_MEM or PTR_TO_MEM_OR_NULL, bpf_dynptr_data's: the kernel's
  // test leaves bpf_dynptr_slice's, which carry the dynptr's type and MEM_RDONLY, alone)
  invalidate(env, (r) => r.type === 'mem' && r.dynptrId === d.id && r.dynptrType === '' && !r.rdonly && !r.ringbuf);
}

/**
 * unmark_stack_slots_dynptr for a helper that releases a ringbuf dynptr: the reference goes, and
 * with it every slice and every clone of the dynptr in its frame.
 */
function releaseDynptr(env: Verifier, regno: number): void {
  const reg = env.regs()[regno]!;
  const f = env.cur.frames[reg.frameno]!;
  const spi = dynptrSpi(reg) as number;
  const d = f.stack[spi]!.dynptr!;
  if (d.type !== 'ringbuf') { invalidateDynptr(f, spi); return; }
  const ref = d.refObjId;
  env.cur.refs = env.cur.refs.filter((x) => x.id !== ref);
  invalidate(env, (r) => r.refObjId === ref);
  for (let k = 1; k < f.stack.length; k++) {
    const s = f.stack[k];
    if (s?.dynptr?.first && s.dynptr.refObjId === ref) invalidateDynptr(f, k);
  }
}

/**
 * check_stack_range_initialized's raw mode: a helper's write-only buffer on the stack may not
 * overlap a dynptr ("potential write to dynptr"). `lo`/`hi`: the stack offsets of the buffer.
 */
export function refuseWriteOverDynptr(env: Verifier, f: Frame, lo: number, hi: number): void {
  for (let a = lo; a < hi; a++) {
    const byte = -a - 1;
    if (f.stack[Math.floor(byte / 8)]?.t[byte % 8] === STACK_DYNPTR)
      throw new Reject({
        errno: 'EACCES',
        message: `potential write to dynptr at off=${a} disallowed`,
        insn: env.idx,
        hint: 'give the helper a buffer that does not overlap a struct bpf_dynptr',
        rule: 'a helper would write over a dynptr',
      });
  }
}

/** A slice of an skb or xdp dynptr: it moves with the packet (reg_is_dynptr_slice_pkt). */
export function isPktSlice(r: Reg): boolean {
  return r.type === 'mem' && (r.dynptrType === 'skb' || r.dynptrType === 'xdp');
}

/** bpf_user_ringbuf_drain's callback argument (mark_dynptr_cb_reg): a const LOCAL dynptr. */
export function callbackDynptr(env: Verifier): Reg {
  return Reg.ptr('dynptr', { dynptrType: 'local', id: env.newId() });
}

/** The argument kinds of the helpers' dynptr argument types (their ARG_PTR_TO_DYNPTR flags). */
const HELPER_ARG_KINDS: Readonly<Record<string, DynptrArgKind>> = {
  PTR_TO_DYNPTR: { rdonly: true },
  PTR_TO_UNINIT_DYNPTR_LOCAL: { uninit: true, type: 'local' },
  PTR_TO_UNINIT_DYNPTR_RINGBUF: { uninit: true, type: 'ringbuf' },
  PTR_TO_DYNPTR_RINGBUF: { type: 'ringbuf', release: true },
};

/** check_func_arg for ARG_PTR_TO_DYNPTR (helper-args.ts's table). */
export function dynptrHelperArg(env: Verifier, meta: CallArgMeta, a: HelperArg): void {
  const kind = HELPER_ARG_KINDS[a.t]!;
  const info = processDynptrArg(env, meta.insn, a.r, kind, true);
  if (info) meta.dynptr = info;
  if (kind.release) meta.dynptrRelease = a.r;
}

/**
 * check_helper_call after the arguments, for the dynptr helpers: the release of a ringbuf dynptr,
 * bpf_dynptr_from_mem's memory (a map value only), and bpf_dynptr_write, which may move an skb's
 * data (clear_all_pkt_pointers: returns true then).
 */
export function dynptrHelperCall(env: Verifier, meta: CallArgMeta): boolean {
  if (meta.dynptrRelease !== undefined) releaseDynptr(env, meta.dynptrRelease);
  if (meta.id === BPF_FUNC.dynptr_from_mem) {
    const r1 = env.regs()[1]!;
    if (r1.type !== 'map_value')
      throw new Reject({
        errno: 'EACCES',
        message: `Unsupported reg type ${regTypeStr(r1)} for bpf_dynptr_from_mem data`,
        insn: meta.insn,
        regs: [1],
        hint: 'make the dynptr over a map value (bpf_map_lookup_elem, a global variable)',
        rule: 'bpf_dynptr_from_mem takes only map values',
      });
  }
  return meta.id === BPF_FUNC.dynptr_write && meta.dynptr?.type === 'skb';
}

/**
 * RET_PTR_TO_DYNPTR_MEM_OR_NULL (bpf_dynptr_data): PTR_TO_MEM of the constant size, maybe NULL,
 * tied to the dynptr (its id, so that destroying the dynptr invalidates it; its reference, so
 * that releasing a ringbuf dynptr does).
 */
export function dynptrDataRet(env: Verifier, meta: CallArgMeta): Reg {
  const d = meta.dynptr;
  return Reg.ptr('mem', { memSize: meta.allocSize, maybeNull: true, id: env.newId(), dynptrId: d?.id ?? 0, refObjId: d?.refObjId ?? 0 });
}
