/**
 * kptrs: pointer fields of a map value that hold kernel objects (the BTF
 * says where: mapValueFields, `struct T __kptr *` and its relatives), and
 * bpf_kptr_xchg (194), which swaps a referenced pointer in and out of one,
 * as Linux's verifier judges them:
 *
 * - check_map_access: a load or store overlapping a kptr must be 8 bytes
 *   exactly at its offset, at a constant offset ("kptr access size must be
 *   BPF_DW", "kptr access misaligned ...", "kptr access cannot have variable
 *   offset"); a helper never reads or writes one ("kptr cannot be accessed
 *   indirectly by helper");
 * - check_map_kptr_access: only BPF_MEM loads and stores (no atomics); a
 *   load gives a PTR_TO_BTF_ID of the field's struct, maybe NULL, RCU
 *   protected (MEM_RCU) where the field is referenced (`__kptr`), the struct
 *   is one of the kernel's rcu_protected_types and the program is in an RCU
 *   read section (any non-sleepable program is), untrusted otherwise; a
 *   referenced kptr is never stored to directly ("store to referenced kptr
 *   disallowed"); an `__kptr_untrusted` one takes NULL (a constant 0, made
 *   precise) or a kernel object pointer of its struct (map_kptr_match_type);
 * - bpf_kptr_xchg(dst, src): dst a map value pointer at a referenced kptr, or
 *   a program-allocated object's pointer at one of its struct's kptrs
 *   (process_kptr_func), src NULL or a referenced pointer of exactly the
 *   field's struct, released by the call; it returns the old pointer, maybe
 *   NULL, holding a new reference that must be released or stored back.
 *
 * The kernel resolves the field's struct by name in its own BTF
 * (btf_parse_kptr); a struct the kernel lacks is a program-local type of
 * bpf_obj_new (MEM_ALLOC, alloc-obj.ts localKptrType): bpf_kptr_xchg moves
 * such objects in and out (exactly the field's struct, MEM_ALLOC both ways);
 * loading one directly, `__kptr_untrusted` local types and `__percpu_kptr`s
 * are not modelled and refused as unsupported, as is a struct tsbpf cannot
 * place (absent from its kernel BTF, yet maybe the kernel's: localKptrType).
 */
import * as op from '../isa/opcodes.js';
import type { KptrField } from '../object/btf/map-fields.js';
import { Reg, regTypeStr } from './types.js';
import { Reject } from './reject.js';
import { ptrOffFault } from './ptr-off.js';
import type { Verifier } from './env.js';
import { kernelBtf, structIdsMatch } from './kernel-btf.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';
import type { BtfType } from '../object/btf/types.js';
import { isAllocObj, isLocalKptr, localKptrType, progBtf } from './alloc-obj.js';
import { structMeta } from '../object/btf/struct-meta.js';

/** The kptr field of map `mapIdx` at byte `off` (btf_record_find), if any. */
export function kptrAt(env: Verifier, mapIdx: number, off: number): KptrField | undefined {
  return env.maps[mapIdx]?.fields?.kptrs?.find((k) => k.off === off);
}

/**
 * check_map_access's kptr case: an access of [lo, hi) (the pointer's bounds plus `off`, `size`
 * bytes) that overlaps a kptr field must be a direct one, at a constant offset, the field's
 * 8 bytes exactly.
 */
export function checkKptrOverlap(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, direct: boolean): void {
  const kptrs = env.maps[base.map]?.fields?.kptrs;
  if (!kptrs) return;
  const lo = BigInt(base.off + off) + base.s.smin, hi = BigInt(base.off + off) + base.s.umax + BigInt(size);
  for (const k of kptrs) {
    if (!(lo < BigInt(k.off + 8) && BigInt(k.off) < hi)) continue;
    const fail = (message: string, rule: string): never => {
      throw new Reject({ errno: 'EACCES', message, insn: env.idx, regs: [ptrReg], rule, hint: 'load or store the whole 8-byte pointer at its own offset, or use bpf_kptr_xchg()' });
    };
    if (!direct) fail('kptr cannot be accessed indirectly by helper', 'a helper may not read or write a kptr field of a map value');
    if (!base.s.isConst()) fail('kptr access cannot have variable offset', 'a kptr field is accessed at a constant offset');
    const at = BigInt(base.off + off) + base.s.varOff.value;
    if (at !== BigInt(k.off)) fail(`kptr access misaligned expected=${k.off} off=${at}`, 'an access must start at the kptr field');
    if (size !== 8) fail('kptr access size must be BPF_DW', 'a kptr field is accessed as 8 bytes');
  }
}

/**
 * btf_parse_kptr: the kernel struct of the field, or the program-local struct of a referenced
 * kptr holding a bpf_obj_new object (localKptrType), or unsupported (a per-CPU kptr, or a struct
 * tsbpf cannot place).
 */
function kptrStruct(env: Verifier, k: KptrField, insn: number): BtfType {
  const btf = env.input.kernelBtf ?? kernelBtf();
  const t = k.kind === 'percpu_kptr' ? undefined : btf.typeByName(k.struct, 'struct') ?? localKptrType(env, k);
  if (!t) throw new Reject({
    errno: 'ENOTSUPP',
    message: `kptr to struct ${k.struct} is not supported by tsbpf: ${k.kind === 'percpu_kptr' ? 'per-CPU kptrs hold bpf_percpu_obj_new objects' : 'the kernel BTF given has no such struct (a program-local type of bpf_obj_new, or a kernel type: give --kernel-btf)'}`,
    insn,
    rule: `the ${k.kind} field at offset ${k.off} points to a struct tsbpf cannot type`,
  });
  return t;
}

/** rcu_protected_types (kernel/bpf/verifier.c): the kernel structs a referenced kptr may be read RCU-protected. */
const RCU_PROTECTED: ReadonlySet<string> = new Set(['prog_test_ref_kfunc', 'cgroup', 'bpf_cpumask', 'task_struct', 'bpf_crypto_ctx']);

/** in_rcu_cs: an explicit RCU read section, a held bpf_spin_lock, or a program that cannot sleep. */
function inRcuCs(env: Verifier): boolean {
  return env.cur.rcuLock || env.cur.activeLock !== null || !env.sleepable;
}

/**
 * check_map_kptr_access: a load, store or atomic at the kptr field `k` (check_map_access
 * passed it). A load returns the register loaded; a store returns undefined.
 */
export function kptrAccess(env: Verifier, k: KptrField, write: boolean, valReg: number): Reg | undefined {
  const i = env.idx;
  const ins = env.insns[i]!;
  const cls = op.classOf(ins.code);
  const fail = (message: string, rule: string, hint?: string): never => {
    throw new Reject({ errno: 'EACCES', message, insn: i, regs: valReg >= 0 ? [valReg] : [], rule, ...(hint ? { hint } : {}) });
  };
  if (op.modeOf(ins.code) !== op.BPF_MEM)
    fail('kptr in map can only be accessed using BPF_MEM instruction mode', 'no atomic operation on a kptr field', 'use bpf_kptr_xchg() to swap the pointer');
  const t = kptrStruct(env, k, i);
  const local = isLocalKptr(env, k, t);
  if (cls !== op.BPF_LDX && k.kind === 'kptr')
    fail('store to referenced kptr disallowed', 'a referenced kptr changes only through bpf_kptr_xchg()', 'use bpf_kptr_xchg(&v->field, ptr) to store it');
  // btf_ld_kptr_type's MEM_ALLOC | MEM_RCU (and NON_OWN_REF) pointers to program-allocated objects are not modelled
  if (local) throw new Reject({
    errno: 'ENOTSUPP',
    message: `${write ? 'store to' : 'load from'} a kptr to program-allocated struct ${k.struct} is not supported by tsbpf`,
    insn: i,
    regs: valReg >= 0 ? [valReg] : [],
    rule: 'tsbpf moves program-allocated objects in and out of maps with bpf_kptr_xchg() only',
  });
  if (!write) {
    // btf_ld_kptr_type: PTR_MAYBE_NULL, and MEM_RCU or PTR_UNTRUSTED
    const rcu = k.kind === 'kptr' && RCU_PROTECTED.has(k.struct) && inRcuCs(env);
    return Reg.ptr('btf_id', { btfId: t.id, btfName: k.struct, btfFlags: rcu ? 'rcu' : 'untrusted', maybeNull: true, id: env.newId() });
  }
  if (cls === op.BPF_ST) {
    if (ins.imm !== 0) fail(`BPF_ST imm must be 0 when storing to kptr at off=${k.off}`, 'only NULL is stored into a kptr field as a constant');
    return undefined;
  }
  const val = env.regs()[valReg]!;
  // a NULL store is valid because the scalar is 0 (the kernel marks it precise; so does the static
  // precision analysis for programs with kptr maps: precision.ts)
  if (val.isNull) return undefined;
  kptrMatchType(env, k, t, val, valReg);
  return undefined;
}

/**
 * map_kptr_match_type: `reg` may go into the kptr field `k`: a kernel object pointer (plain,
 * trusted, RCU, or untrusted for an `__kptr_untrusted` field, maybe NULL) at a constant offset
 * whose struct is the field's (exactly for a referenced field; for an untrusted one a struct
 * that begins with it, btf_struct_ids_match).
 */
function kptrMatchType(env: Verifier, k: KptrField, t: BtfType, reg: Reg, regno: number, errno: 'EINVAL' | 'EACCES' = 'EINVAL'): void {
  const i = env.idx;
  const badType = (): never => {
    const name = reg.type === 'btf_id' ? reg.btfName : '';
    throw new Reject({
      errno,
      message: `invalid kptr access, R${regno} type=${regTypeStr(reg)}${name} expected=ptr_${k.struct}${k.kind === 'kptr_untrusted' ? ` or untrusted_ptr_${k.struct}` : ''}`,
      insn: i,
      regs: [regno],
      hint: `store a pointer to a struct ${k.struct} (or NULL)`,
      rule: `the ${k.kind} field at offset ${k.off} holds a struct ${k.struct} pointer`,
    });
  };
  if (reg.type !== 'btf_id') badType();
  // a program-allocated object goes only into a field of its own struct (the program's BTF; strict
  // match: at offset 0), and only such an object goes there (btf_struct_ids_match compares the BTFs)
  if (isLocalKptr(env, k, t) || reg.btfFlags === 'alloc') {
    if (!(isLocalKptr(env, k, t) && reg.btfFlags === 'alloc' && reg.off === 0 && reg.s.isConst() && reg.s.varOff.value === 0n && reg.btfId === t.id)) badType();
    return;
  }
  const ok = reg.btfFlags === '' || reg.btfFlags === 'trusted' || reg.btfFlags === 'rcu' || (reg.btfFlags === 'untrusted' && k.kind === 'kptr_untrusted');
  if (!ok) badType();
  // __check_ptr_off_reg(fixed_off_ok): a constant, non-negative offset
  const offFault = ptrOffFault(reg, regno, true);
  if (offFault) throw new Reject({ errno: 'EACCES', message: offFault, insn: i, regs: [regno] });
  const btf = env.input.kernelBtf ?? kernelBtf();
  const match = k.kind === 'kptr_untrusted' ? structIdsMatch(btf, reg.btfId, reg.off, t.id) : reg.off === 0 && btf.resolve(reg.btfId) === t.id;
  if (!match) badType();
}

/** ARG_KPTR_XCHG_DEST (process_kptr_func): bpf_kptr_xchg's first argument, a map value pointer at a referenced kptr. */
export function kptrXchgDestArg(env: Verifier, meta: CallArgMeta, a: HelperArg, badArg: (expected: string) => never): void {
  const { r, reg } = a;
  const i = meta.insn;
  const fail = (errno: 'EINVAL' | 'EACCES', message: string, rule: string): never => {
    throw new Reject({ errno, message, insn: i, regs: [r], rule, hint: 'pass &value->field, where the field is a `struct T __kptr *`' });
  };
  // kptr_xchg_dest_types: a map value, or a program-allocated object (PTR_TO_BTF_ID | MEM_ALLOC, an owning reference)
  if (isAllocObj(reg) && !reg.maybeNull) return allocKptrDest(env, meta, a, fail);
  if (reg.type !== 'map_value' || reg.maybeNull) badArg('map_value, ptr_');
  const m = env.maps[reg.map]!;
  if (!m.btf) fail('EINVAL', `map '${m.name ?? ''}' has to have BTF in order to use bpf_kptr_xchg`, 'a kptr lives in a map value typed by BTF');
  if (!reg.s.isConst()) fail('EINVAL', `R${r} doesn't have constant offset. kptr has to be at the constant offset`, 'the kptr pointer must be at a constant offset');
  if (!m.fields?.kptrs?.length) fail('EINVAL', `R${r} has no valid kptr`, 'the map value has no kptr field');
  const off = reg.off + Number(reg.s.varOff.value);
  const k = kptrAt(env, reg.map, off);
  if (!k) fail('EACCES', `off=${off} doesn't point to kptr`, 'the pointer must be a kptr field\'s address');
  if (k!.kind === 'kptr_untrusted') fail('EACCES', `off=${off} kptr isn't referenced kptr`, 'bpf_kptr_xchg swaps referenced kptrs (`__kptr`) only');
  meta.kptr = k!;
}

/**
 * process_kptr_func for a program-allocated destination: check_func_arg_reg_off lets a
 * PTR_TO_BTF_ID | MEM_ALLOC have a fixed offset but no variable one, and the kptr is looked up
 * in the object's struct's record (reg_btf_record: btf_parse_struct_metas lists its kptrs).
 */
function allocKptrDest(env: Verifier, meta: CallArgMeta, a: HelperArg, fail: (errno: 'EINVAL' | 'EACCES', message: string, rule: string) => never): void {
  const { r, reg } = a;
  const offFault = ptrOffFault(reg, r, true);
  if (offFault) throw new Reject({ errno: 'EACCES', message: offFault, insn: meta.insn, regs: [r] });
  const btf = progBtf(env)!;
  const kptrs = (structMeta(btf, reg.btfId)?.fields ?? []).filter((f) => f.kind === 'kptr');
  if (!kptrs.length) fail('EINVAL', `R${r} has no valid kptr`, `struct ${reg.btfName} has no kptr field`);
  const f = kptrs.find((k) => k.off === reg.off);
  if (!f) fail('EACCES', `off=${reg.off} doesn't point to kptr`, 'the pointer must be a kptr field\'s address');
  const k = f!.kptr!;
  if (k.kind === 'kptr_untrusted') fail('EACCES', `off=${reg.off} kptr isn't referenced kptr`, 'bpf_kptr_xchg swaps referenced kptrs (`__kptr`) only');
  meta.kptr = k;
}

/**
 * bpf_kptr_xchg's second argument (ARG_PTR_TO_BTF_ID_OR_NULL | OBJ_RELEASE, its struct the
 * field's): NULL, or a referenced, non-NULL kernel object pointer of the field's struct at
 * offset 0, which the call releases (check_reg_type, map_kptr_match_type, check_func_arg_reg_off).
 */
export function kptrXchgSrcArg(env: Verifier, meta: CallArgMeta, a: HelperArg, badArg: (expected: string) => never): void {
  const { r, reg } = a;
  const i = meta.insn;
  if (reg.isNull) return;
  const k = meta.kptr!;
  // (check_reg_type drops MEM_ALLOC from bpf_kptr_xchg's source: a program-allocated object may be stashed)
  if (reg.type !== 'btf_id' || (reg.btfFlags !== '' && reg.btfFlags !== 'trusted' && reg.btfFlags !== 'rcu' && reg.btfFlags !== 'alloc')) badArg('ptr_, trusted_ptr_, rcu_ptr_');
  if (reg.maybeNull) throw new Reject({
    errno: 'EACCES',
    message: `Possibly NULL pointer passed to helper arg${r}`,
    insn: i,
    regs: [r],
    hint: 'compare the pointer with NULL before passing it',
  });
  // (check_reg_type turns any mismatch into -EACCES)
  kptrMatchType(env, k, kptrStruct(env, k, i), reg, r, 'EACCES');
  if (reg.off !== 0) throw new Reject({ errno: 'EINVAL', message: `R${r} must have zero offset when passed to release func or trusted arg to kfunc`, insn: i, regs: [r] });
  if (!reg.refObjId) throw new Reject({
    errno: 'EINVAL',
    message: `R${r} must be referenced when passed to release function`,
    insn: i,
    regs: [r],
    hint: 'store a pointer a kfunc acquired (bpf_task_acquire(), ...) or bpf_kptr_xchg() returned',
    rule: 'bpf_kptr_xchg takes over a reference, and the pointer holds none',
  });
  meta.releaseRef = reg.refObjId;
}

/** r0 of bpf_kptr_xchg: the field's old pointer, maybe NULL, holding a new reference (is_acquire_function). */
export function kptrXchgRet(env: Verifier, meta: CallArgMeta): Reg {
  const k = meta.kptr!;
  const t = kptrStruct(env, k, meta.insn);
  env.newId(); // the maybe-NULL id check_helper_call takes first, then replaces with the reference's
  const ref = env.newId();
  env.cur.refs.push({ id: ref, insn: meta.insn });
  // (a program-allocated object comes back MEM_ALLOC: check_helper_call for bpf_kptr_xchg)
  return Reg.ptr('btf_id', { btfId: t.id, btfName: k.struct, id: ref, refObjId: ref, maybeNull: true, ...(isLocalKptr(env, k, t) ? { btfFlags: 'alloc' as const } : {}) });
}
