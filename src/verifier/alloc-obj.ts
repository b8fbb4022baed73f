/**
 * Program-allocated objects (kernel/bpf/helpers.c bpf_obj_new_impl and
 * friends), as Linux's verifier judges them: an object of a struct of the
 * program's own BTF (a "local type"), which bpf_obj_new(T) allocates and
 * bpf_obj_drop frees.
 *
 * - bpf_obj_new_impl(local_type_id__k, meta__ign) (KF_ACQUIRE | KF_RET_NULL):
 *   the type id is a known constant (check_kfunc_args' `__k` arguments) in
 *   [0, U32_MAX] naming a struct of the program's BTF; r0 is a
 *   PTR_TO_BTF_ID | MEM_ALLOC of that struct (the register's btfFlags
 *   'alloc', its btfId an id of the program's BTF), maybe NULL, holding a
 *   new reference (check_kfunc_call);
 * - bpf_obj_drop_impl(p__alloc, meta__ign) (KF_RELEASE): the argument is
 *   exactly such a pointer (KF_ARG_PTR_TO_ALLOC_BTF_ID), not NULL, at offset
 *   0, holding its reference, which the call releases;
 * - bpf_refcount_acquire_impl(p__refcounted_kptr, meta__ign) (KF_ACQUIRE |
 *   KF_RET_NULL | KF_RCU): an allocated object whose struct has a
 *   `struct bpf_refcount` (KF_ARG_PTR_TO_REFCOUNTED_KPTR); from an owning
 *   reference the new one is never NULL (is_kfunc_ret_null);
 * - loads and stores through the pointer (check_ptr_to_btf_access with
 *   btf_struct_access on the program's BTF): writes are allowed, the
 *   object's special fields (struct-meta.ts) are not accessed directly, and
 *   otherwise the access is walked as a kernel object's is (a field, or part
 *   of an integer one). A pointer member read whole would give a pointer to
 *   another local type, which tsbpf does not model (refused as unsupported).
 *
 * The list kfuncs, the non-owning references they create and a bpf_spin_lock
 * inside an allocated object are graph.ts's. Not modelled (refused as
 * unsupported, never misjudged): the percpu variants, and kptrs of local
 * types loaded from a map (MEM_ALLOC | MEM_RCU). An object's own kptrs are
 * bpf_kptr_xchg destinations (kptr.ts).
 *
 * At run time tsbpf has no allocator for these objects: the kfuncs are
 * refused at load (ENOTSUPP naming them), kfuncs.ts runtime 'none'.
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { ptrOffFault } from './ptr-off.js';
import type { Verifier } from './env.js';
import type { Btf } from '../object/btf/btf.js';
import { structMeta } from '../object/btf/struct-meta.js';
import { mayBeKernelStruct } from '../object/btf/kernel-struct-names.js';
import { structWalkId, kernelBtf } from './kernel-btf.js';
import type { BtfType } from '../object/btf/types.js';
import { tnumStr } from './tnum.js';
import { loadedScalar } from './ldst.js';
import { releaseKfuncRef, markKfuncRet, setKfuncResult } from './kfunc-args.js';

/** The program's own BTF (env->prog->aux->btf), where local types live. */
export function progBtf(env: Verifier): Btf | undefined {
  return env.input.btf as Btf | undefined;
}

/** A PTR_TO_BTF_ID | MEM_ALLOC (owning reference to a program-allocated object). */
export function isAllocObj(r: Reg): boolean {
  return r.type === 'btf_id' && r.btfFlags === 'alloc';
}

/** check_kfunc_call for bpf_obj_new_impl, bpf_obj_drop_impl and bpf_refcount_acquire_impl. */
export function checkAllocKfunc(env: Verifier, i: number, name: string): number {
  let r0 = Reg.notInit();
  let releaseRef = 0;
  if (name === 'bpf_obj_new_impl') r0 = objNew(env, i);
  else if (name === 'bpf_obj_drop_impl') releaseRef = allocArg(env, i, name, 'alloc');
  else r0 = refcountAcquire(env, i, name);
  if (releaseRef) releaseKfuncRef(env, releaseRef);
  return setKfuncResult(env, i, r0);
}

function objNew(env: Verifier, i: number): Reg {
  const fail = (message: string, rule: string): never => {
    throw new Reject({ errno: 'EINVAL', message, insn: i, regs: [1], rule, hint: 'call it as bpf_obj_new(struct T): the type id is bpf_core_type_id_local(struct T), a constant' });
  };
  // check_kfunc_args: local_type_id__k is a scalar, a known constant (made precise)
  const r1 = env.readReg(1);
  if (r1.type !== 'scalar') fail('R1 is not a scalar', 'the type id of bpf_obj_new is a number');
  if (!r1.s.isConst()) fail('R1 must be a known constant', 'the type id of bpf_obj_new is a constant');
  const v = r1.s.varOff.value;
  if (v > 0xffffffffn) fail('local type ID argument must be in range [0, U32_MAX]', 'a BTF type id is 32 bits');
  const btf = progBtf(env);
  if (!btf) fail('bpf_obj_new/bpf_percpu_obj_new requires prog BTF', 'the allocated type is one of the program\'s BTF');
  const id = Number(v);
  const t = id > 0 && id < btf!.types.length ? btf!.typeById(id) : undefined;
  if (!t || t.kind !== 'struct') fail('bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct', 'bpf_obj_new allocates a struct');
  const r = Reg.ptr('btf_id', { btfId: id, btfName: t!.name, btfFlags: 'alloc' });
  markKfuncRet(env, i, r, { acquire: true, retNull: true });
  return r;
}

function refcountAcquire(env: Verifier, i: number, name: string): Reg {
  allocArg(env, i, name, 'refcounted');
  const reg = env.regs()[1]!;
  const r = Reg.ptr('btf_id', { btfId: reg.btfId, btfName: reg.btfName, btfFlags: 'alloc' });
  // is_kfunc_ret_null: from an owning reference the new one is never NULL
  markKfuncRet(env, i, r, { acquire: true, retNull: reg.refObjId === 0 });
  return r;
}

/**
 * The first argument of bpf_obj_drop_impl (`p__alloc`, KF_RELEASE) or bpf_refcount_acquire_impl
 * (`p__refcounted_kptr`, KF_RCU), in check_kfunc_args' order: NULL, trust, offset, then the kind;
 * returns the reference a release gives back.
 */
function allocArg(env: Verifier, i: number, name: string, kind: 'alloc' | 'refcounted'): number {
  const reg = env.readReg(1);
  const fail = (errno: 'EINVAL' | 'EACCES', message: string, hint: string): never => {
    throw new Reject({ errno, message, insn: i, regs: [1], hint, rule: `argument 0 of ${name} is not what its prototype asks` });
  };
  const release = kind === 'alloc';
  if (reg.isNull || (reg.isPointer && reg.maybeNull)) fail('EACCES', 'Possibly NULL pointer passed to trusted arg0', 'compare the pointer with NULL before passing it');
  // is_trusted_reg (KF_RELEASE implies trusted arguments; KF_RCU takes RCU ones too): only for p__alloc
  if (release && !(reg.refObjId !== 0 || isAllocObj(reg) || (reg.type === 'btf_id' && reg.btfFlags === 'trusted') || TRUSTED_BASE.has(reg.type)))
    fail('EINVAL', 'R1 must be referenced or trusted', `pass ${name} a pointer bpf_obj_new() returned`);
  // check_func_arg_reg_off: a released reference at offset 0; otherwise no negative or variable offset
  if (release && reg.refObjId && reg.off !== 0)
    fail('EINVAL', 'R1 must have zero offset when passed to release func or trusted arg to kfunc', 'pass the pointer bpf_obj_new() returned, not one into the object');
  if (reg.type === 'btf_id' || (release && reg.refObjId)) {
    const message = ptrOffFault(reg, 1, true);
    if (message) fail('EACCES', message, 'pass the object\'s own pointer');
  }
  if (release) {
    if (!isAllocObj(reg)) fail('EINVAL', 'arg#0 expected pointer to allocated object', 'pass a pointer bpf_obj_new() returned');
    if (!reg.refObjId) fail('EINVAL', 'allocated object must be referenced', 'pass a pointer bpf_obj_new() returned, not yet dropped or given away');
    return reg.refObjId;
  }
  // (a non-owning reference, graph.ts, is one too)
  if (!isAllocObj(reg) && !(reg.type === 'btf_id' && reg.btfFlags === 'alloc_nonown')) fail('EINVAL', 'arg#0 is neither owning or non-owning ref', 'pass a pointer bpf_obj_new() returned');
  // reg_btf_record: a struct without special fields has no record at all, which Linux (6.18) reports as its own bug
  const meta = structMeta(progBtf(env)!, reg.btfId);
  if (!meta) throw new Reject({ errno: 'EFAULT', message: 'verifier bug: Couldn\'t find btf_record', insn: i, regs: [1], hint: 'give the struct a `struct bpf_refcount` member', rule: `argument 0 of ${name} is a struct without a bpf_refcount` });
  if (meta.refcountOff === undefined)
    fail('EINVAL', 'arg#0 doesn\'t point to a type with bpf_refcount field', 'give the struct a `struct bpf_refcount` member');
  return 0;
}

/** reg2btf_ids' register types, trusted as they are (is_trusted_reg). */
const TRUSTED_BASE: ReadonlySet<string> = new Set(['sock', 'sock_common', 'tcp_sock', 'map_ptr']);

/**
 * check_ptr_to_btf_access for a PTR_TO_BTF_ID | MEM_ALLOC: a load or store of `size` bytes at the
 * pointer's offset plus `off` into the program-allocated object (btf_struct_access on the
 * program's BTF). Returns the loaded register (undefined for a store).
 */
export function allocObjAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  const btf = progBtf(env)!;
  const tname = base.btfName;
  const o = base.off + off;
  const fail = (errno: 'EACCES' | 'EINVAL' | 'ENOTSUPP', message: string, rule: string, hint?: string): never => {
    throw new Reject({ errno, message, insn: i, regs: [ptrReg], rule, ...(hint ? { hint } : {}) });
  };
  if (o < 0) fail('EACCES', `R${ptrReg} is ptr_${tname} invalid negative access: off=${o}`, 'the access is before the object');
  if (!base.s.isConst() || base.s.varOff.value !== 0n)
    fail('EACCES', `R${ptrReg} is ptr_${tname} invalid variable offset: off=${o}, var_off=${tnumStr(base.s.varOff)}`, 'objects are accessed at constant offsets');
  // btf_struct_access: the record's fields are the kernel's
  for (const f of structMeta(btf, base.btfId)?.fields ?? []) {
    if (o < f.off + f.size && o + size > f.off)
      fail('EACCES', `direct access to ${f.kind} is disallowed`, `the ${f.kind} at offset ${f.off} of struct ${tname} is the kernel's`,
        f.kind === 'kptr' ? 'use bpf_kptr_xchg() on it' : 'use the kfuncs made for it');
  }
  const w = structWalkId(btf, base.btfId, o, size);
  if (w.kind === 'error') fail(w.errno, w.message, `the access is not a field of struct ${tname}`);
  if (w.kind === 'ptr') throw new Reject({
    errno: 'ENOTSUPP',
    message: `access to pointer field ${w.field} of program-allocated struct ${tname} is not supported by tsbpf`,
    insn: i,
    regs: [ptrReg],
    rule: 'tsbpf does not type pointers held in program-allocated objects',
  });
  return write ? undefined : loadedScalar(size, signExtend);
}

/** The field kinds no kernel struct holds (checked against Linux 6.18's vmlinux): a struct with one is the program's. */
const GRAPH_OR_REFCOUNT: ReadonlySet<string> = new Set(['bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount']);

/**
 * btf_parse_kptr's program-local case: a referenced kptr (`struct T __kptr *`) whose struct the
 * kernel's BTF lacks holds objects of the program's own struct T, which bpf_obj_new allocates.
 * The caller found no kernel struct of that name, but tsbpf's shipped subset has only a few, and
 * even the vmlinux BTF --kernel-btf gives lacks the modules' structs, which Linux also searches
 * (bpf_find_btf_id). So T counts as the program's only where the recorded kernel's vmlinux has
 * no struct of that name either (kernel-struct-names.ts, a filter that may only err towards
 * "the kernel's"), or where it holds a list or rbtree head or node or a bpf_refcount, which no
 * kernel struct does; else the field stays unsupported: a kernel struct must never be taken for a
 * program's, whose objects programs may write. (A module's struct of the same name, which Linux
 * would find first, is beyond what tsbpf can see without the module's BTF.)
 */
export function localKptrType(env: Verifier, k: { kind: string; typeId: number }): BtfType | undefined {
  const btf = progBtf(env);
  if (!btf || k.kind !== 'kptr') return undefined;
  const t = btf.typeById(k.typeId);
  if (t.kind !== 'struct') return undefined;
  // no struct of the recorded kernel's vmlinux has the name either (kernel-struct-names.ts): bpf_find_btf_id's -ENOENT
  if (!mayBeKernelStruct(t.name)) return t;
  return structMeta(btf, t.id)?.fields.some((f) => GRAPH_OR_REFCOUNT.has(f.kind)) ? t : undefined;
}

/** Whether `t`, the struct kptrStruct gave for field `k`, is the program's own (MEM_ALLOC objects). */
export function isLocalKptr(env: Verifier, k: { typeId: number }, t: BtfType): boolean {
  const btf = progBtf(env);
  return !!btf && k.typeId < btf.types.length && btf.typeById(k.typeId) === t && (env.input.kernelBtf ?? kernelBtf()).typeByName(t.name, 'struct') !== t;
}

/**
 * is_bpf_graph_api_kfunc (Linux 6.18): the list and rbtree kfuncs and bpf_refcount_acquire, the
 * kfuncs a program may call while it holds a bpf_spin_lock (the graph's lock). tsbpf judges
 * bpf_refcount_acquire (here) and the list and rbtree kfuncs (graph.ts).
 */
export const GRAPH_API_KFUNCS: ReadonlySet<string> = new Set([
  'bpf_list_push_front_impl', 'bpf_list_push_back_impl', 'bpf_list_pop_front', 'bpf_list_pop_back', 'bpf_list_front', 'bpf_list_back',
  'bpf_rbtree_add_impl', 'bpf_rbtree_remove', 'bpf_rbtree_first', 'bpf_rbtree_root', 'bpf_rbtree_left', 'bpf_rbtree_right',
  'bpf_refcount_acquire_impl',
]);
