/**
 * bpf_spin_lock: a `struct bpf_spin_lock` field in a map value (its BTF
 * says where: mapValueFields), taken with bpf_spin_lock(&v->lock) and given
 * back with bpf_spin_unlock, as Linux's verifier judges it
 * (process_spin_lock and the checks around the state's active lock):
 *
 * - the argument is a map value pointer (not NULL) at a constant offset
 *   that is the lock's ("off N doesn't point to 'struct bpf_spin_lock' that
 *   is at M"), of a map whose value type has one ("map 'x' has no valid
 *   bpf_spin_lock") and that has BTF at all;
 * - one lock at a time ("Locking two bpf_spin_locks are not allowed"); the
 *   state remembers which (the map, and the id of the value pointer the
 *   lookup returned, kept after its NULL check for that reason), and
 *   bpf_spin_unlock must name the same one ("bpf_spin_unlock of different
 *   lock") after a lock was taken ("bpf_spin_unlock without taking a lock");
 * - while it is held: no helper call but bpf_spin_unlock, no kfunc ("function
 *   calls are not allowed while holding a lock"), no global function, no
 *   LD_ABS/IND, and the program may not end ("... cannot be used inside
 *   bpf_spin_lock-ed region"); bpf-to-bpf calls are allowed and keep it;
 * - the lock word itself is never read or written by the program, nor by a
 *   helper given the value ("bpf_spin_lock cannot be accessed directly by
 *   load/store");
 * - programs of the tracing types (kprobe, tracepoint, perf_event, raw_tp)
 *   and socket filters may not use a map with a lock at all
 *   (check_map_prog_compatibility).
 *
 * The state's lock (VerifierState.activeLock) is compared in states_equal
 * (prune.ts) by map and, through the id map, by value pointer.
 */
import type { MapValueFields } from '../object/btf/map-fields.js';
export { mapValueFields, type MapValueFields } from '../object/btf/map-fields.js';
import { Reject } from './reject.js';
import type { Verifier, VerifierMapInfo } from './env.js';
import type { Reg } from './types.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';
import type { ProgTypeName } from '../object/spec.js';
import { checkKptrOverlap } from './kptr.js';
import { GRAPH_ROOT_SIZE } from '../object/btf/graph-root.js';
import { allocLockArg, invalidateNonOwningRefs, inRbtreeCb, ALLOC_LOCK_MAP } from './graph.js';

/** The state's held lock (the kernel's active_lock {ptr, id}): the map, and the value pointer's id. */
export interface ActiveLock {
  readonly map: number;
  readonly id: number;
}

const FIELD_SIZE = { spinLock: 4, timer: 16 } as const;
const FIELD_NAME = { spinLock: 'bpf_spin_lock', timer: 'bpf_timer' } as const;

/** reg_may_point_to_spin_lock: a map value pointer whose NULL check keeps its id (the lock's identity). */
export function keepsLockId(env: Verifier, r: Reg): boolean {
  return r.type === 'map_value' && env.maps[r.map]?.fields?.spinLock !== undefined;
}

/** check_map_prog_compatibility: the program types that may not use a map holding a lock (or a timer). */
export function checkLockMapProgType(env: Verifier, i: number, m: VerifierMapInfo): void {
  const t: ProgTypeName = env.input.progType;
  if (m.fields?.timer !== undefined && m.fields.spinLock === undefined && TRACING_TYPES.has(t)) throw new Reject({
    errno: 'EINVAL',
    message: 'tracing progs cannot use bpf_timer yet',
    insn: i,
    hint: 'keep the timer in a map only fentry/fexit, tc, xdp, syscall or other program types use',
    rule: `${t} programs may not use a map whose value holds a bpf_timer`,
  });
  if (m.fields?.spinLock === undefined) return;
  const why = t === 'socket_filter' ? 'socket filter progs cannot use bpf_spin_lock yet'
    : TRACING_TYPES.has(t) ? 'tracing progs cannot use bpf_spin_lock yet' : undefined;
  if (why) throw new Reject({
    errno: 'EINVAL',
    message: why,
    insn: i,
    hint: 'keep the lock in a map only fentry/fexit, tc, xdp, cgroup or other program types use',
    rule: `${t} programs may not use a map whose value holds a bpf_spin_lock`,
  });
}
/** is_tracing_prog_type */
const TRACING_TYPES: ReadonlySet<string> = new Set(['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'raw_tracepoint_writable']);

/**
 * check_map_access's field check: a load, store or helper access that overlaps
 * a special field of the value (the lock, the timer) is refused; one that
 * overlaps a kptr must be `direct` (a load or store, not a helper's) and take it
 * whole (kptr.ts).
 */
export function checkMapFields(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, direct = false): void {
  const f = env.maps[base.map]?.fields;
  if (!f) return;
  if (f.kptrs) checkKptrOverlap(env, ptrReg, base, off, size, direct);
  const lo = BigInt(base.off + off) + base.s.smin, hi = BigInt(base.off + off) + base.s.umax + BigInt(size);
  // (a list or rbtree root is the kernel's too: graph.ts)
  for (const g of f.graphRoots ?? []) {
    if (!(lo < BigInt(g.off + GRAPH_ROOT_SIZE) && BigInt(g.off) < hi)) continue;
    throw new Reject({
      errno: 'EACCES',
      message: `${g.kind} cannot be accessed directly by load/store`,
      insn: env.idx,
      regs: [ptrReg],
      hint: 'use the bpf_list_* / bpf_rbtree_* kfuncs on it, holding the value\'s bpf_spin_lock',
      rule: `the ${g.kind} field of a map value is the kernel's, not the program's`,
    });
  }
  for (const k of ['spinLock', 'timer'] as const) {
    const p = f[k];
    if (p === undefined || !(lo < BigInt(p + FIELD_SIZE[k]) && BigInt(p) < hi)) continue;
    throw new Reject({
      errno: 'EACCES',
      message: `${FIELD_NAME[k]} cannot be accessed directly by load/store`,
      insn: env.idx,
      regs: [ptrReg],
      hint: k === 'spinLock' ? 'take and release the lock with bpf_spin_lock() / bpf_spin_unlock(); read and write the other fields' : 'use the bpf_timer_* helpers on it',
      rule: `the ${FIELD_NAME[k]} field of a map value is the kernel's, not the program's`,
    });
  }
}

/** ARG_PTR_TO_SPIN_LOCK: check_reg_type (a map value), then process_spin_lock. */
export function spinLockArg(env: Verifier, meta: CallArgMeta, a: HelperArg, badArg: (expected: string) => never): void {
  const { r, reg } = a;
  const i = meta.insn;
  // spin_lock_types: a map value, or a program-allocated object (PTR_TO_BTF_ID | MEM_ALLOC, owning)
  const alloc = reg.type === 'btf_id' && reg.btfFlags === 'alloc' && !reg.maybeNull;
  if (!alloc && (reg.type !== 'map_value' || reg.maybeNull)) badArg('map_value, ptr_');
  if (inRbtreeCb(env)) throw new Reject({ errno: 'EACCES', message: 'can\'t spin_{lock,unlock} in rbtree cb', insn: i, regs: [r], rule: 'bpf_rbtree_add\'s callback runs under the tree\'s lock' });
  const fail = (message: string, rule: string, hint?: string): never => {
    throw new Reject({ errno: 'EINVAL', message, insn: i, regs: [r], rule, ...(hint ? { hint } : {}) });
  };
  if (!reg.s.isConst())
    fail(`R${r} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`, 'the lock pointer must be at a constant offset');
  if (alloc) return lockOrUnlock(env, meta.id === SPIN_LOCK, { map: ALLOC_LOCK_MAP, id: reg.id }, allocLockArg(env, reg), fail);
  const m = env.maps[reg.map]!;
  if (!m.btf) fail(`map '${m.name ?? ''}' has to have BTF in order to use bpf_spin_lock`, 'a lock lives in a map value typed by BTF', 'declare the map with BTF (the __type/__uint macros of a SEC(".maps") definition)');
  const at = m.fields?.spinLock;
  if (at === undefined) fail(`map '${m.name ?? ''}' has no valid bpf_spin_lock`, 'the map value has no struct bpf_spin_lock');
  const off = Number(reg.s.varOff.value) + reg.off;
  if (off !== at) fail(`off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${at}`, 'the pointer must be the lock field\'s address', `pass &value->lock (offset ${at})`);
  lockOrUnlock(env, meta.id === SPIN_LOCK, { map: reg.map, id: reg.id }, undefined, fail);
}

/** process_spin_lock's end: take the lock `l`, or give it back (the non-owning references die with it). */
function lockOrUnlock(env: Verifier, lock: boolean, l: ActiveLock, bad: string | undefined, fail: (message: string, rule: string, hint?: string) => never): void {
  if (bad) fail(bad, 'the lock pointer must be the lock field of an object that has one');
  const st = env.cur;
  if (lock) {
    if (st.activeLock) fail('Locking two bpf_spin_locks are not allowed', 'a program holds one lock at a time');
    st.activeLock = l;
    return;
  }
  if (!st.activeLock) fail('bpf_spin_unlock without taking a lock', 'unlock a lock the program took');
  if (st.activeLock!.map !== l.map || st.activeLock!.id !== l.id) fail('bpf_spin_unlock of different lock', 'unlock the lock the program took, through the same value pointer');
  invalidateNonOwningRefs(env);
  st.activeLock = null;
}
const SPIN_LOCK = 93;

/** do_check at a call: with a lock held only bpf_spin_unlock may be called (and bpf-to-bpf functions entered). */
export function checkCallUnderLock(env: Verifier, i: number, kind: 'helper' | 'kfunc' | 'global', helperId = 0): void {
  if (!env.cur.activeLock) return;
  if (kind === 'helper' && helperId === SPIN_UNLOCK) return;
  throw new Reject({
    errno: 'EINVAL',
    message: kind === 'global' ? 'global function calls are not allowed while holding a lock,\nuse static function instead' : 'function calls are not allowed while holding a lock',
    insn: i,
    hint: 'call bpf_spin_unlock() first: a lock is held only across straight-line code',
    rule: 'no calls while a bpf_spin_lock is held',
  });
}
const SPIN_UNLOCK = 94;

/** check_resource_leak's lock check (Linux 6.18): `what` may not happen while a lock is held. */
export function checkNoLock(env: Verifier, i: number, what: string): void {
  if (!env.cur.activeLock) return;
  throw new Reject({
    errno: 'EINVAL',
    message: `${what} cannot be used inside bpf_spin_lock-ed region`,
    insn: i,
    hint: 'call bpf_spin_unlock() on every path first',
    rule: `${what} while a bpf_spin_lock is held`,
  });
}

/** states_equal: both hold no lock, or the same map's lock through corresponding value pointers. */
export function locksEqual(o: ActiveLock | null, c: ActiveLock | null, checkIds: (a: number, b: number) => boolean): boolean {
  if (!o || !c) return o === c;
  if (o.map !== c.map) return false;
  if (!!o.id !== !!c.id) return false;
  return !o.id || checkIds(o.id, c.id);
}
