/**
 * Open-coded iterators (bpf_iter_<kind>_new / _next / _destroy; what libbpf's bpf_for,
 * bpf_repeat and bpf_for_each expand to), as kernel/bpf/verifier.c judges them:
 *
 * - the iterator's state lives on the program's stack, in slots of the kind STACK_ITER
 *   (mark_stack_slots_iter); _new needs slots that hold no iterator yet, acquires a reference
 *   that _destroy releases, so an iterator not destroyed on some path is an "Unreleased
 *   reference" at exit; _next and _destroy need a live iterator of their kind
 *   (is_iter_reg_valid_init: "expected an initialized iter_num as arg #0");
 * - a store into an iterator's slot is allowed and scrubs it (stack.ts scrubIter), after which
 *   the iterator is gone;
 * - _next forks the path (process_iter_next_call): on the current path it returned NULL and the
 *   iterator is DRAINED; the queued path has it ACTIVE one level deeper with a non-NULL r0, and
 *   the scalars that differ from the previous iteration's entry and whose value cannot matter
 *   are forgotten (widen_imprecise_scalars), so that a loop counter does not make every
 *   iteration a new state;
 * - a loop over _next converges when the state at a _next call is contained, range for range,
 *   in the state at an earlier iteration of the same path with the iterator ACTIVE
 *   (is_state_visited, do-check.ts); iterator depths keep the infinite-loop check from firing
 *   between iterations (iter_active_depths_differ).
 *
 * tsbpf's precision is static (precision.ts): "may this scalar's value matter from here on",
 * decided before the walk, where the kernel's marks grow during it.
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { Checkpoint } from './do-check.js';
import type { IterKind } from './kfuncs.js';
import { type VerifierState, STACK_ITER, STACK_SPILL, sameCallsites } from './state.js';
import { stackAccess } from './stack.js';
import { pushStack } from './do-check.js';

/** Where an iterator argument's first slot is: the frame and spi (meta->iter). */
export interface IterLoc {
  frameno: number;
  spi: number;
}

/** The iterator's trust, for what _next returns (MEM_RCU or PTR_TRUSTED). */
export function iterTrust(env: Verifier, loc: IterLoc): '' | 'rcu' | 'untrusted' {
  return env.cur.frames[loc.frameno]!.stack[loc.spi]?.iter?.trust ?? '';
}

/** bpf_rcu_read_unlock: the iterators created inside the section are no longer protected. */
export function rcuUnlockIters(env: Verifier): void {
  for (const f of env.cur.frames) {
    for (let spi = 0; spi < f.stack.length; spi++) {
      if (f.stack[spi]?.iter?.trust === 'rcu') f.slot(spi).iter!.trust = 'untrusted';
    }
  }
}

function fail(env: Verifier, i: number, regno: number, errno: 'EINVAL' | 'EPROTO', message: string, hint: string): never {
  throw new Reject({ errno, message, insn: i, regs: [regno], hint, rule: 'the iterator argument is not what the iterator kfunc needs' });
}

/**
 * stack_slot_obj_get_spi: the iterator must sit at a constant, 8-byte aligned stack offset with
 * its `slots` slots inside the frame; the slot index of its first (lowest-address) slot.
 */
function iterSpi(env: Verifier, i: number, regno: number, reg: Reg, iter: IterKind, op: 'new' | 'next' | 'destroy'): number {
  // the caller's message follows (is_iter_reg_valid_uninit / _init fail on the bad slot index)
  const then = op === 'new' ? `expected uninitialized iter_${iter.kind} as arg #0` : `expected an initialized iter_${iter.kind} as arg #0`;
  if (!reg.s.isConst()) fail(env, i, regno, 'EINVAL', `iter has to be at a constant offset\n${then}`, 'pass the address of a stack variable: &it');
  const off = reg.off + Number(BigInt.asIntN(64, reg.s.varOff.value));
  const spi = Math.floor((-off - 1) / 8);
  if (off % 8 !== 0 || spi + 1 < iter.slots)
    fail(env, i, regno, 'EINVAL', `cannot pass in iter at an offset=${off}\n${then}`,
      `declare the iterator as a stack variable of type struct bpf_iter_${iter.kind} (${iter.slots * 8} bytes, 8-byte aligned)`);
  return spi;
}

/**
 * process_iter_arg for r1 of an iterator kfunc: _new initialises the slots, _next and _destroy
 * need them initialised for this kind (and _destroy releases them). Returns where the
 * iterator is and the reference it holds.
 */
export function processIterArg(env: Verifier, i: number, op: 'new' | 'next' | 'destroy', iter: IterKind): IterLoc & { ref: number } {
  const regno = 1;
  const name = `bpf_iter_${iter.kind}_${op}`;
  // check_kfunc_args, before process_iter_arg (check_css_task_iter_allowlist)
  if (iter.cssTaskAllowlist && op === 'new') {
    const t = env.input.progType;
    if (t !== 'lsm' && !(t === 'tracing' && env.input.attachType === 'trace_iter') && !env.input.sleepable)
      throw new Reject({
        errno: 'EINVAL',
        message: 'css_task_iter is only allowed in bpf_lsm, bpf_iter and sleepable progs',
        insn: i,
        hint: 'use it from an lsm, iter/ or sleepable program',
        rule: `${name} is not available to ${t} programs`,
      });
  }
  const reg = env.readReg(regno);
  if (reg.type !== 'fp')
    fail(env, i, regno, 'EINVAL', 'arg#0 expected pointer to an iterator on stack', `pass the address of a struct bpf_iter_${iter.kind} on the stack`);
  const f = env.cur.frames[reg.frameno]!;
  const spi = iterSpi(env, i, regno, reg, iter, op);
  const slotAt = (k: number) => f.stack[spi - k];
  if (op === 'new') {
    // is_iter_reg_valid_uninit: no byte of the slots may belong to an iterator already
    for (let k = 0; k < iter.slots; k++) {
      if (slotAt(k)?.t.some((t) => t === STACK_ITER))
        fail(env, i, regno, 'EINVAL', `expected uninitialized iter_${iter.kind} as arg #0`,
          `destroy the iterator at fp${-(spi + 1) * 8} (bpf_iter_${iter.kind}_destroy) before creating another there`);
    }
    // check_mem_access of each 8-byte word as a write: in-frame, and the frame's depth grows
    for (let k = 0; k < iter.slots; k++) stackAccess(env, regno, reg, k * 8, 8, true, undefined, undefined, false);
    // mark_stack_slots_iter; a KF_RCU_PROTECTED iterator is MEM_RCU inside an RCU section (every
    // non-sleepable program is one: in_rcu_cs), PTR_UNTRUSTED outside
    const trust = !iter.rcuProtected ? '' : env.cur.rcuLock || !env.input.sleepable ? 'rcu' : 'untrusted';
    const ref = env.newId();
    env.cur.refs.push({ id: ref, insn: i });
    for (let k = 0; k < iter.slots; k++) {
      const s = f.slot(spi - k);
      s.t.fill(STACK_ITER);
      s.spilled = null;
      s.iter = { kind: iter.kind, state: 'active', depth: 0, refObjId: k === 0 ? ref : 0, first: k === 0, trust };
      if (env.logLevel > 1 && f === env.cur.cur) env.scratchSlots.add(spi - k);
    }
    return { frameno: reg.frameno, spi, ref };
  }
  // is_iter_reg_valid_init
  let valid = true;
  for (let k = 0; k < iter.slots && valid; k++) {
    const s = slotAt(k);
    const it = s?.iter;
    if (!s || !it || !s.t.every((t) => t === STACK_ITER) || it.kind !== iter.kind || (k === 0) !== (it.refObjId !== 0)) valid = false;
  }
  if (!valid)
    fail(env, i, regno, 'EINVAL', `expected an initialized iter_${iter.kind} as arg #0`,
      `create the iterator with bpf_iter_${iter.kind}_new() on every path before this call, and do not overwrite or destroy it before`);
  if (slotAt(0)!.iter!.trust === 'untrusted')
    fail(env, i, regno, 'EPROTO', `expected an RCU CS when using ${name}`,
      `create and use the iterator inside bpf_rcu_read_lock() ... bpf_rcu_read_unlock()`);
  const ref = slotAt(0)!.iter!.refObjId;
  if (env.logLevel > 1 && f === env.cur.cur) for (let k = 0; k < iter.slots; k++) env.scratchSlots.add(spi - k);
  if (op === 'destroy') {
    // unmark_stack_slots_iter: the reference goes (and every pointer _next returned with it)
    for (let k = 0; k < iter.slots; k++) {
      const s = f.slot(spi - k);
      s.t.fill(0);
      s.iter = null;
    }
  }
  return { frameno: reg.frameno, spi, ref };
}

/** The iterator's first slot in state `st`, to be changed. */
function iterSlot(st: VerifierState, loc: IterLoc) {
  return st.frames[loc.frameno]!.slot(loc.spi).iter!;
}

/**
 * process_iter_next_call, after r0 was set to the maybe-NULL result: an ACTIVE iterator queues
 * the path where _next returned an element (iterator ACTIVE, one iteration deeper, r0 not NULL,
 * imprecise scalars widened against the previous iteration's entry); the current path goes on
 * with the iterator DRAINED and r0 = 0.
 */
export function processIterNextCall(env: Verifier, i: number, loc: IterLoc): void {
  const cur = env.cur;
  const it = cur.frames[loc.frameno]!.stack[loc.spi]!.iter!;
  if (it.state === 'active') {
    const prev = findPrevEntry(env, i);
    const queued = cur.clone();
    const qi = iterSlot(queued, loc);
    qi.state = 'active';
    qi.depth++;
    if (prev) widenImpreciseScalars(env, prev.state, queued, false, true);
    queued.cur.reg(0).maybeNull = false;
    pushStack(env, queued, i + 1, i);
  }
  iterSlot(cur, loc).state = 'drained';
  cur.cur.regs[0] = Reg.known(0n);
}

/**
 * find_prev_entry: the nearest checkpoint at this instruction, with the same call sites, on the
 * path that led here (at an iterator's _next, not the one is_state_visited just made for this
 * very state: `own`; a callback's return to its helper call has made none yet).
 */
export function findPrevEntry(env: Verifier, i: number, own = true): Checkpoint | undefined {
  const list = env.explored.get(i);
  if (!list) return undefined;
  let c = env.cp;
  if (own && c && list.includes(c)) c = c.parent;
  for (; c; c = c.parent) {
    if (c.branches > 0 && list.includes(c) && sameCallsites(c.state, env.cur)) return c;
  }
  return undefined;
}

/**
 * widen_imprecise_scalars: a scalar register or spilled scalar of `cur` whose value may not
 * matter from here on (static precision, read at env.idx) and that is not exactly the one of the
 * previous iteration's entry `old` becomes unknown. Without static precision (unprivileged loads,
 * where Linux makes every scalar precise) nothing is widened. `walked`: a scalar counts as precise
 * only if it also may matter along the paths walked so far (env.marks.walkedPrecision: Linux's marks
 * grow as paths are explored, so a value whose use is not explored yet is widened; an iterator's
 * _next). `all`: every scalar that differs,
 * precise or not (always sound; only exactness is lost). Returns whether a scalar that differs
 * was precise (kept, or with `all` widened all the same).
 */
export function widenImpreciseScalars(env: Verifier, old: VerifierState, cur: VerifierState, all = false, walked = false): boolean {
  const ctx = env.pruneCtx;
  if (!ctx.preciseMask || !ctx.preciseSlot) return false;
  let preciseDiffers = false;
  for (let k = 0; k < old.frames.length; k++) {
    const fo = old.frames[k]!, fc = cur.frames[k]!;
    let precise = -1;
    for (let r = 0; r < 10; r++) {
      const o = fo.regs[r]!, c = fc.regs[r]!;
      if (o.type !== 'scalar' || c.type !== 'scalar' || sameScalar(o, c)) continue;
      if (precise < 0) precise = ctx.preciseMask(cur, k) & (walked ? env.marks.walkedPreciseMask(cur, k) : -1);
      if (precise & (1 << r)) {
        preciseDiffers = true;
        if (!all) continue;
      }
      fc.regs[r] = Reg.unknown();
    }
    const n = Math.min(fo.stack.length, fc.stack.length);
    for (let spi = 0; spi < n; spi++) {
      const so = fo.stack[spi], sc = fc.stack[spi];
      if (!so?.spilled || !sc?.spilled || so.t[7] !== STACK_SPILL || sc.t[7] !== STACK_SPILL) continue;
      if (so.spilled.type !== 'scalar' || sc.spilled.type !== 'scalar' || sameScalar(so.spilled, sc.spilled)) continue;
      if (ctx.preciseSlot(cur, k, spi) && (!walked || env.marks.walkedPreciseSlot(cur, k, spi))) {
        preciseDiffers = true;
        if (!all) continue;
      }
      fc.slot(spi).spilled = Reg.unknown();
    }
  }
  return preciseDiffers;
}

/** regs_exact for two scalars (ids compared as they are: a mismatch only widens, which is safe). */
function sameScalar(o: Reg, c: Reg): boolean {
  return o.s.equals(c.s) && o.id === c.id && o.linkOff === c.linkOff && o.addConst === c.addConst;
}

/**
 * is_state_visited's convergence test at a _next call, after states_equal (RANGE_WITHIN) held:
 * the iterator r1 points to is still ACTIVE in the current state.
 */
export function iterActiveAt(st: VerifierState): boolean {
  const r1 = st.cur.regs[1]!;
  if (r1.type !== 'fp' || !r1.s.isConst()) return false;
  const off = r1.off + Number(BigInt.asIntN(64, r1.s.varOff.value));
  const it = st.frames[r1.frameno]?.stack[Math.floor((-off - 1) / 8)]?.iter;
  return it?.state === 'active';
}

/**
 * iter_active_depths_differ: an ACTIVE iterator of `old` at another depth in `cur` means another
 * iteration, not an infinite loop.
 */
export function iterActiveDepthsDiffer(old: VerifierState, cur: VerifierState): boolean {
  for (let k = 0; k < old.frames.length; k++) {
    const so = old.frames[k]!.stack, sc = cur.frames[k]?.stack;
    for (let spi = 0; spi < so.length; spi++) {
      const it = so[spi]?.iter;
      if (!it || so[spi]!.t[0] !== STACK_ITER || it.state !== 'active') continue;
      if (sc?.[spi]?.iter?.depth !== it.depth) return true;
    }
  }
  return false;
}
