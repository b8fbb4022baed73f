/**
 * The program's own linked lists (kernel/bpf/helpers.c bpf_list_*), as
 * Linux's verifier judges them. A `struct bpf_list_head` with a
 * `__contains(T, node)` tag (graph-root.ts) lives in a map value (or global
 * data) or in a program-allocated object, beside the `struct bpf_spin_lock`
 * that guards it; its elements are objects of the program's struct T
 * (alloc-obj.ts) linked through their `struct bpf_list_node` member `node`.
 *
 * - bpf_list_push_front_impl / push_back_impl(head, node, meta__ign, off__k):
 *   the head is a map value or an owning allocated pointer, at a constant
 *   offset that is a bpf_list_head's, and the lock of that same value or
 *   object is held (check_reg_allocation_locked); the node an owning
 *   pointer to a T at the offset of T's node member that the head's
 *   __contains names. The list owns the object then: every copy of the
 *   pointer becomes a non-owning reference (ref_convert_owning_non_owning;
 *   BtfPtrFlags 'alloc_nonown'), usable for loads and stores until the lock
 *   is released (invalidate_non_owning_refs, at bpf_spin_unlock), and the
 *   reference is gone (nothing to drop);
 * - bpf_list_pop_front / pop_back(head) (KF_ACQUIRE | KF_RET_NULL): the same
 *   head check; r0 is an owning pointer to a T at the node's offset
 *   (mark_reg_graph_node), maybe NULL, holding a new reference.
 *
 * A bpf_spin_lock inside an allocated object is taken as a map value's is
 * (process_spin_lock): its identity is the program's BTF (ALLOC_LOCK_MAP)
 * and the pointer's id.
 *
 * The rbtree kfuncs likewise (a bpf_rb_root and bpf_rb_node): bpf_rbtree_add_impl(root, node,
 * less, meta__ign, off__k) takes an owning node as a push does, and calls `less(a, b)`
 * synchronously, any number of times (push_callback_call with set_rbtree_add_callback_state:
 * two non-owning nodes, r0 in [0, 1], under the caller's lock, which it may not take or release:
 * "can't spin_{lock,unlock} in rbtree cb"); bpf_rbtree_first(root) (KF_RET_NULL) returns a
 * non-owning node, bpf_rbtree_remove(root, node) takes a non-owning one (or, since Linux 6.16, an
 * owning one) and returns it owning (KF_ACQUIRE | KF_RET_NULL).
 *
 * Linux 6.16's peeks (KF_RET_NULL, no reference): bpf_list_front/back(head) and
 * bpf_rbtree_root(root) give a non-owning node as bpf_rbtree_first does (check_kfunc_call's
 * ref_set_non_owning for a returned bpf_list_node or bpf_rb_node that is not acquired);
 * bpf_rbtree_left/right(root, node) take the node bpf_rbtree_remove takes and give another
 * non-owning one.
 *
 * Every pointer argument of these kfuncs is refused where it may be NULL ("Possibly NULL pointer
 * passed to trusted arg%d": the running 6.18 checks every kfunc's pointer arguments, not only
 * KF_TRUSTED_ARGS ones; recorded: graph_rbtree_left_unchecked).
 *
 * Inside bpf_rbtree_add's `less` callback (in_rbtree_lock_required_cb) the caller's lock is held,
 * so the graph kfuncs are judged as outside it, except that bpf_rbtree_remove/left/right are
 * refused there ("%s not allowed in rbtree cb", after their node's own checks; recorded:
 * graph_rbtree_{first,left,remove}_in_less). Not modelled (refused as unsupported): a nested
 * bpf_rbtree_add inside the callback. At run time tsbpf has no allocator: the kfuncs are refused
 * at load (ENOTSUPP naming them; kfuncs.ts runtime 'none').
 */
import { Reg, type BtfPtrFlags } from './types.js';
import { Reject } from './reject.js';
import { ptrOffFault } from './ptr-off.js';
import type { Verifier } from './env.js';
import { structMeta } from '../object/btf/struct-meta.js';
import { nodeKindOf, type GraphRootInfo, type GraphRootKind } from '../object/btf/graph-root.js';
import { progBtf } from './alloc-obj.js';
import { markKfuncRet, releaseKfuncRef, setKfuncResult } from './kfunc-args.js';
import { pushCallbackEntry, RBTREE_ADD_CB } from './callback.js';
import { RBTREE_ADD } from './kfuncs.js';

/** active_lock.ptr of a lock inside an allocated object: the program's BTF, not a map (map indices are >= 0). */
export const ALLOC_LOCK_MAP = -1;


type Fail = (errno: 'EINVAL' | 'EACCES', message: string, hint?: string) => never;

function failer(i: number, name: string, regno: number): Fail {
  return (errno, message, hint) => {
    throw new Reject({ errno, message, insn: i, regs: [regno], ...(hint ? { hint } : {}), rule: `argument ${regno - 1} of ${name} is not what its prototype asks` });
  };
}

/** in_rbtree_lock_required_cb: the walk is inside bpf_rbtree_add_impl's `less` callback. */
export function inRbtreeCb(env: Verifier): boolean {
  return env.cur.frames.some((f) => f.callbackOf === RBTREE_ADD_CB);
}

/** The peeks (Linux 6.16): KF_RET_NULL, a non-owning node (ref_set_non_owning). */
const PEEKS: ReadonlySet<string> = new Set(['bpf_list_front', 'bpf_list_back', 'bpf_rbtree_first', 'bpf_rbtree_root']);
/** The kfuncs whose second argument is a node the tree already holds (KF_ARG_PTR_TO_RB_NODE, not an insertion). */
const TREE_NODE_ARG: ReadonlySet<string> = new Set(['bpf_rbtree_remove', 'bpf_rbtree_left', 'bpf_rbtree_right']);

/** check_kfunc_call for the list and rbtree kfuncs. */
export function checkGraphKfunc(env: Verifier, i: number, name: string): number {
  // (the callback would be pushed again, inside itself: tsbpf does not follow that)
  if (name === RBTREE_ADD && inRbtreeCb(env)) throw new Reject({
    errno: 'ENOTSUPP',
    message: `calling kernel function ${name} inside an rbtree callback is not supported by tsbpf`,
    insn: i,
    rule: 'tsbpf judges bpf_rbtree_add outside bpf_rbtree_add\'s callback only',
  });
  const rb = name.startsWith('bpf_rbtree_');
  const rootKind: GraphRootKind = rb ? 'bpf_rb_root' : 'bpf_list_head';
  const root = graphRootArg(env, i, name, 1, rootKind);
  let r0 = Reg.unknown();
  if (name === 'bpf_list_push_front_impl' || name === 'bpf_list_push_back_impl' || name === RBTREE_ADD) {
    const ref = graphNodeArg(env, i, name, 2, rootKind, root);
    if (name === RBTREE_ADD) {
      // KF_ARG_PTR_TO_CALLBACK, then push_callback_call with set_rbtree_add_callback_state
      const less = env.readReg(3);
      if (less.type !== 'func') throw new Reject({ errno: 'EINVAL', message: 'arg2 expected pointer to func', insn: i, regs: [3], rule: 'bpf_rbtree_add\'s less is a function of the program' });
      constArg(env, i, 5);
      pushCallbackEntry(env, i, less.subprog, RBTREE_ADD_CB, [graphNode(root, 'alloc_nonown'), graphNode(root, 'alloc_nonown')]);
    } else constArg(env, i, 4);
    // check_kfunc_call: the list or tree owns the node now
    refConvertOwningNonOwning(env, ref);
    releaseKfuncRef(env, ref);
  } else if (name === 'bpf_rbtree_remove') {
    treeNodeArg(env, i, name, root);
    r0 = graphNode(root, 'alloc');
    markKfuncRet(env, i, r0, { acquire: true, retNull: true });
  } else if (PEEKS.has(name) || TREE_NODE_ARG.has(name)) {
    // (bpf_rbtree_left/right)
    if (TREE_NODE_ARG.has(name)) treeNodeArg(env, i, name, root);
    // KF_RET_NULL, then ref_set_non_owning
    r0 = graphNode(root, 'alloc_nonown');
    markKfuncRet(env, i, r0, { retNull: true });
  } else {
    r0 = graphNode(root, 'alloc');
    markKfuncRet(env, i, r0, { acquire: true, retNull: true });
  }
  return setKfuncResult(env, i, r0);
}

/** mark_reg_graph_node: a T, at its node member. */
function graphNode(root: GraphRootInfo, flags: BtfPtrFlags): Reg {
  return Reg.ptr('btf_id', { btfId: root.valueTypeId, btfName: root.valueName, btfFlags: flags, off: root.nodeOffset });
}

/**
 * The node of bpf_rbtree_remove/left/right (KF_ARG_PTR_TO_RB_NODE): a non-owning reference to a T
 * at its node, or (Linux 6.16 on, recorded: graph_rbtree_remove_owning, graph_rbtree_left_owning)
 * an owning one, which stays the program's; never inside the rbtree callback.
 */
function treeNodeArg(env: Verifier, i: number, name: string, root: GraphRootInfo): void {
  const reg = env.readReg(2);
  const fail = failer(i, name, 2);
  nullArgCheck(reg, 2, fail);
  ptrOffCheck(reg, 2, fail);
  if (!(reg.type === 'btf_id' && (reg.btfFlags === 'alloc_nonown' || (reg.btfFlags === 'alloc' && reg.refObjId))))
    fail('EINVAL', `${name} can only take non-owning or refcounted bpf_rb_node pointer`, 'pass a node bpf_rbtree_first() gave, or one added under this lock');
  if (inRbtreeCb(env)) fail('EINVAL', `${name} not allowed in rbtree cb`, 'walk or change the tree after bpf_rbtree_add() returns');
  nodeAt(env, reg, 2, 'bpf_rb_root', root, fail);
}

/**
 * check_kfunc_args (Linux 6.18, as the running kernel judges it): a pointer argument that is NULL
 * or may be is refused, whatever the kfunc's flags (no graph kfunc's argument is __nullable).
 */
function nullArgCheck(reg: Reg, regno: number, fail: Fail): void {
  if (reg.isNull || (reg.isPointer && reg.maybeNull))
    fail('EACCES', `Possibly NULL pointer passed to trusted arg${regno - 1}`, 'compare the pointer with NULL before passing it');
}

/** check_func_arg_reg_off for a PTR_TO_BTF_ID argument: no negative or variable offset. */
function ptrOffCheck(reg: Reg, regno: number, fail: Fail): void {
  const message = reg.type === 'btf_id' ? ptrOffFault(reg, regno, true) : undefined;
  if (message) fail('EACCES', message);
}

/**
 * KF_ARG_PTR_TO_LIST_HEAD / RB_ROOT (check_kfunc_args, __process_kf_arg_ptr_to_graph_root): a map
 * value or an owning allocated object, a root of `kind` at its constant offset, its lock held.
 */
function graphRootArg(env: Verifier, i: number, name: string, regno: number, kind: GraphRootKind): GraphRootInfo {
  const reg = env.readReg(regno);
  const fail = failer(i, name, regno);
  nullArgCheck(reg, regno, fail);
  ptrOffCheck(reg, regno, fail);
  const alloc = isOwning(reg.type, reg.btfFlags) && !reg.maybeNull;
  if (!alloc && (reg.type !== 'map_value' || reg.maybeNull))
    fail('EINVAL', `arg#${regno - 1} expected pointer to map value or allocated object`, `pass &value->head of a map value or of an object bpf_obj_new() returned`);
  if (alloc && !reg.refObjId) fail('EINVAL', 'allocated object must be referenced');
  if (!reg.s.isConst()) fail('EINVAL', `R${regno} doesn't have constant offset. ${kind} has to be at the constant offset`);
  const off = reg.off + Number(reg.s.varOff.value);
  let found: GraphRootInfo | 'invalid' | undefined;
  let lockOff = -22; // (the record's spin_lock_off without a lock: -EINVAL)
  if (alloc) {
    const meta = structMeta(progBtf(env)!, reg.btfId);
    found = meta?.fields.find((f) => f.kind === kind && f.off === off)?.root;
    lockOff = meta?.fields.find((f) => f.kind === 'bpf_spin_lock')?.off ?? lockOff;
  } else {
    const fields = env.maps[reg.map]?.fields;
    found = fields?.graphRoots?.find((g) => g.kind === kind && g.off === off)?.root;
    lockOff = fields?.spinLock ?? lockOff;
  }
  if (!found) fail('EINVAL', `${kind} not found at offset=${off}`, `pass the address of a struct ${kind} member`);
  // (Linux refuses such a BTF or map at load)
  if (found === 'invalid') fail('EINVAL', `the ${kind} at offset=${off} has no valid __contains(type, field) tag`, 'tag the root __contains(struct T, node member)');
  // check_reg_allocation_locked: the lock held is the one of this very value or object
  const l = env.cur.activeLock;
  if (!l || l.map !== (alloc ? ALLOC_LOCK_MAP : reg.map) || l.id !== reg.id)
    fail('EINVAL', `${l ? 'held lock and object are not in the same allocation\n' : ''}bpf_spin_lock at off=${lockOff} must be held for ${kind}`,
      'call bpf_spin_lock() on the lock beside the root first');
  return found as GraphRootInfo;
}

/**
 * KF_ARG_PTR_TO_LIST_NODE / RB_NODE for an insertion (__process_kf_arg_ptr_to_graph_node): an owning
 * pointer to the root's struct T at T's node member. Returns the reference it holds.
 */
function graphNodeArg(env: Verifier, i: number, name: string, regno: number, rootKind: GraphRootKind, root: GraphRootInfo): number {
  const reg = env.readReg(regno);
  const fail = failer(i, name, regno);
  nullArgCheck(reg, regno, fail);
  ptrOffCheck(reg, regno, fail);
  // (bpf_rbtree_add_impl takes any MEM_ALLOC pointer here, type_is_ptr_alloc_obj, then wants its reference)
  const allocOk = rootKind === 'bpf_rb_root' ? reg.type === 'btf_id' && (reg.btfFlags === 'alloc' || reg.btfFlags === 'alloc_nonown') : isOwning(reg.type, reg.btfFlags);
  if (!(allocOk && !reg.maybeNull)) fail('EINVAL', `arg#${regno - 1} expected pointer to allocated object`, 'pass &obj->node of an object bpf_obj_new() returned');
  if (!reg.refObjId) fail('EINVAL', 'allocated object must be referenced', 'pass an object the program owns (bpf_obj_new(), or popped from a list)');
  nodeAt(env, reg, regno, rootKind, root, fail);
  return reg.refObjId;
}

/** __process_kf_arg_ptr_to_graph_node's checks: a node member of the root's struct T, the one its __contains names. */
function nodeAt(env: Verifier, reg: Reg, regno: number, rootKind: GraphRootKind, root: GraphRootInfo, fail: Fail): void {
  const kind = nodeKindOf(rootKind);
  const off = reg.off;
  if (!structMeta(progBtf(env)!, reg.btfId)?.fields.some((f) => f.kind === kind && f.off === off))
    fail('EINVAL', `${kind} not found at offset=${off}`, `pass the address of a struct ${kind} member`);
  const hint = `pass the member the root's __contains(${root.valueName}, ...) names`;
  // (btf_struct_ids_match, strict: the very struct)
  if (reg.btfId !== root.valueTypeId)
    fail('EINVAL', `operation on ${rootKind} expects arg#1 ${kind} at offset=${root.nodeOffset} in struct ${root.valueName}, but arg is at offset=${off} in struct ${reg.btfName}`, hint);
  if (off !== root.nodeOffset) fail('EINVAL', `arg#${regno - 1} offset=${off}, but expected ${kind} at offset=${root.nodeOffset} in struct ${root.valueName}`, hint);
}

/** A `__k` argument (check_kfunc_args): a scalar, a known constant. */
function constArg(env: Verifier, i: number, regno: number): void {
  const reg = env.readReg(regno);
  const fail = (message: string): never => {
    throw new Reject({ errno: 'EINVAL', message, insn: i, regs: [regno], rule: `argument ${regno - 1} is a constant` });
  };
  if (reg.type !== 'scalar') fail(`R${regno} is not a scalar`);
  if (!reg.s.isConst()) fail(`R${regno} must be a known constant`);
}

function isOwning(type: string, flags: BtfPtrFlags): boolean {
  return type === 'btf_id' && flags === 'alloc';
}

/** ref_convert_owning_non_owning: every copy of the pointer holding `ref` becomes a non-owning reference (ref_set_non_owning). */
function refConvertOwningNonOwning(env: Verifier, ref: number): void {
  for (const r of env.cur.allRegs((x) => x.refObjId === ref)) {
    r.refObjId = 0;
    r.btfFlags = 'alloc_nonown';
  }
}

/** invalidate_non_owning_refs (at bpf_spin_unlock): the non-owning references die with the lock (mark_reg_invalid). */
export function invalidateNonOwningRefs(env: Verifier): void {
  for (const r of env.cur.allRegs((x) => x.type === 'btf_id' && x.btfFlags === 'alloc_nonown')) Object.assign(r, env.privileged ? Reg.unknown() : Reg.notInit());
}

/**
 * process_spin_lock for a lock inside an allocated object (PTR_TO_BTF_ID | MEM_ALLOC): the kernel's
 * message where the object has none or the pointer is not at it, else undefined.
 */
export function allocLockArg(env: Verifier, reg: Reg): string | undefined {
  const lock = structMeta(progBtf(env)!, reg.btfId)?.fields.find((f) => f.kind === 'bpf_spin_lock');
  if (!lock) return 'local \'kptr\' has no valid bpf_spin_lock';
  const off = Number(reg.s.varOff.value) + reg.off;
  return off === lock.off ? undefined : `off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${lock.off}`;
}
