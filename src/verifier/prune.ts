/**
 * State equivalence for pruning (the kernel's states_equal / regsafe /
 * stacksafe / refsafe). A path that reaches a prune point in a state
 * contained in one already proven safe from that point on need not be
 * explored again.
 *
 * Dead registers (by the static liveness of cfg.ts) and stack slots no path
 * reads again (stack-liveness.ts, the kernel's REG_LIVE_READ test in
 * stacksafe) are ignored. Like the kernel, scalars whose value cannot matter
 * from this instruction on (see precision.ts: a static, conservative form of
 * the kernel's precision tracking) are compared by type only; every other
 * register in full.
 */
import { locksEqual } from './spin-lock.js';
import { Reg } from './types.js';
import { type VerifierState, type StackSlot, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, STACK_ITER, STACK_DYNPTR } from './state.js';

class IdMap {
  /**
   * (old, cur) pairs seen so far, flat, the first `n` entries. A state comparison runs for
   * every stored state at every prune point and usually meets a handful of ids, so one array
   * reused by every comparison (never shrunk: setting its length to 0 frees its store) beats
   * a pair of Maps allocated per comparison.
   */
  private pairs: number[] = [];
  private n = 0;
  private tmp = 1 << 30;

  /** @param lax every pair holds: for the id-blind quick test (surelyUnsafe) */
  constructor(private readonly lax = false) {}

  /** Forget every pair: one map serves every comparison (statesEqual does not nest). */
  reset(): void {
    this.n = 0;
    this.tmp = 1 << 30;
  }

  /** old and cur ids must correspond one to one (check_ids). */
  check(oldId: number, curId: number): boolean {
    if (this.lax) return true;
    if (!oldId && !curId) return true;
    if (!oldId) oldId = ++this.tmp;
    if (!curId) curId = ++this.tmp;
    const p = this.pairs, n = this.n;
    for (let k = 0; k < n; k += 2) {
      const a = p[k]!, b = p[k + 1]!;
      if (a === oldId || b === curId) return a === oldId && b === curId;
    }
    p[n] = oldId;
    p[n + 1] = curId;
    this.n = n + 2;
    return true;
  }
}

/** Exact equality (the kernel's regs_exact), for loop detection. */
function regsExact(o: Reg, c: Reg, ids: IdMap): boolean {
  // (registers that share their pointer fields, types.ts PtrInfo, compare them by identity)
  return o.type === c.type && o.maybeNull === c.maybeNull && o.off === c.off &&
    (o.p === c.p || (o.p.range === c.p.range && o.p.sameBesidesRange(c.p))) &&
    o.s.equals(c.s) && ids.check(o.id, c.id) && ids.check(o.refObjId, c.refObjId) && o.linkOff === c.linkOff && o.addConst === c.addConst;
}

function regsafe(o: Reg, c: Reg, ids: IdMap, exact: Exactness = false): boolean {
  if (exact === true) return regsExact(o, c, ids);
  // RANGE_WITHIN: an uninitialised register matches only another (of the registers live there:
  // func_states_equal compares only those, Linux 6.15+)
  if (o.type === 'not_init') return exact !== 'range' || c.type === 'not_init';
  if (o.type !== c.type) return false;
  if (o.type === 'scalar') return o.s.includes(c.s) && ids.check(o.id, c.id) && (!o.id || (o.linkOff === c.linkOff && o.addConst === c.addConst));
  if (o.maybeNull !== c.maybeNull || o.off !== c.off) return false;
  const op = o.p, cp = c.p;
  if (op !== cp) {
    if (!op.sameBesidesRange(cp)) return false;
    if (o.isPkt && op.range > cp.range) return false;
    // a pointer marked at/beyond data_end decided branches the current one may not (mark_pkt_end)
    if (o.isPkt && (op.range < 0 || cp.range < 0) && op.range !== cp.range) return false;
  }
  if (!o.s.includes(c.s)) return false;
  return ids.check(o.id, c.id) && ids.check(o.refObjId, c.refObjId);
}

export interface PruneContext {
  /** registers live in frame k of a state at instruction `insn` (bit n = rn) */
  liveMask(st: VerifierState, frame: number): number;
  /** uninitialised stack reads are allowed (privileged) */
  allowUninitStack: boolean;
  /**
   * registers of frame k whose scalar value may matter from the state's
   * instruction on (bit n = rn); absent: all of them
   */
  preciseMask?(st: VerifierState, frame: number): number;
  /** whether the value spilled in slot spi of frame k may matter (absent: all of them do) */
  preciseSlot?(st: VerifierState, frame: number, spi: number): boolean;
  /** whether some path from the state's instruction may access slot spi of frame k (absent: all may) */
  liveSlot?(st: VerifierState, frame: number, spi: number): boolean;
}

/**
 * How states_equal compares (the kernel's enum exact_level): false is NOT_EXACT (liveness and
 * precision excuse differences); 'range' is RANGE_WITHIN at an iterator's or callback's
 * convergence (iter.ts, callback.ts): the registers live at the instruction (func_states_equal's
 * live_regs_before, Linux 6.15+) and every stack byte of the same type, values by containment;
 * 'within' is RANGE_WITHIN against a state of a loop whose marks are incomplete (scc.ts): the
 * same, with stack bytes typed as NOT_EXACT types them; true is EXACT.
 */
export type Exactness = boolean | 'range' | 'within';

/**
 * Whether every concrete state described by `cur` is described by `old`;
 * with `exact`, whether they are the same abstract state (every register,
 * live or not, and every stack byte), which on the same path means a loop
 * that cannot make progress (the kernel's EXACT mode).
 */
export function statesEqual(old: VerifierState, cur: VerifierState, ctx: PruneContext, exactness: Exactness = false, hint = -1, cleaned = false): boolean {
  // ('within' compares registers as 'range' does; its slots, slotSafe)
  const exact = exactness === 'within' ? 'range' : exactness;
  missAt = -1;
  if (old.frames.length !== cur.frames.length) return false;
  if (old.refs.length !== cur.refs.length) return false;
  // bpf_rcu_read_lock / bpf_preempt_disable sections (the kernel's states_equal compares them too)
  if (old.rcuLock !== cur.rcuLock || old.preemptLock !== cur.preemptLock) return false;
  // Most comparisons fail, and a stored state tends to fail again on the same register or stack
  // slot: test that one first (the result is the same, only found sooner).
  if (hint >= 0 && exact === false && surelyUnsafe(old, cur, ctx, hint)) {
    missAt = hint;
    return false;
  }
  const ids = IDS;
  ids.reset();
  // the held bpf_spin_lock: the same map's, through corresponding value pointers (check_ids)
  if ((old.activeLock || cur.activeLock) && !locksEqual(old.activeLock, cur.activeLock, checkIds)) return false;
  for (let k = 0; k < old.frames.length; k++) {
    const fo = old.frames[k]!, fc = cur.frames[k]!;
    if (fo.callsite !== fc.callsite || fo.callbackOf !== fc.callbackOf || fo.subprog !== fc.subprog) return false;
    // func_states_equal: a state whose helper had made more calls of its callback could call it
    // fewer times more (bpf_loop's nr_loops), so it does not cover one that made fewer.
    if (fo.callbackDepth > fc.callbackDepth) return false;
    const live = exact === true ? 0x7ff : ctx.liveMask(cur, k);
    let precise = -1;
    for (let r = 0; r < 10; r++) {
      if (!(live & (1 << r))) continue;
      const o = fo.regs[r]!, c = fc.regs[r]!;
      // A register both states still share (copy-on-write, state.ts) equals itself: only its ids
      // are left to record, as regsafe would.
      if (o === c) {
        if (sameRegIds(o, ids, exact)) continue;
        return false;
      }
      if (regsafe(o, c, ids, exact)) continue;
      // An imprecise scalar: any scalar value is as safe as the one already explored (regsafe's
      // !precise case). Asked only on a mismatch, so that the analysis runs only where it helps
      // (comparing it anyway only records more id pairs: never less safe).
      if (exact === false && o.type === 'scalar' && c.type === 'scalar' && ctx.preciseMask) {
        if (precise < 0) precise = ctx.preciseMask(cur, k);
        if (!(precise & (1 << r))) continue;
      }
      missAt = (k << 4) | r;
      return false;
    }
    for (let spi = 0; spi < fo.stack.length; spi++) {
      const so = fo.stack[spi];
      if (!so) continue;
      // (a slot clean_verifier_state forgot as dead reads as never written: it matches anything)
      if (cleaned && exactness === 'within' && ctx.liveSlot && !ctx.liveSlot(cur, k, spi)) continue;
      if (slotSafe(so, fc.stack[spi], ids, exactness, ctx, cur, k, spi)) continue;
      missAt = SLOT_MISS | (k << 6) | spi;
      return false;
    }
  }
  for (let i = 0; i < old.refs.length; i++) if (!ids.check(old.refs[i]!.id, cur.refs[i]!.id)) return false;
  return true;
}

/**
 * Slot spi of frame k: whether the explored state's slot `so` covers the current one's `sc`
 * (the per-slot part of the kernel's stacksafe), recording id pairs in `ids`. (A slot that passes
 * with every id pair allowed, LAX, may still fail on its ids; one that fails with LAX fails.)
 */
function slotSafe(so: StackSlot, sc: StackSlot | undefined, ids: IdMap, exact: Exactness, ctx: PruneContext, cur: VerifierState, k: number, spi: number): boolean {
  // A slot both states still share (copy-on-write, state.ts) equals itself, in either mode;
  // only a spilled register with ids would still have pairs to record.
  if (so === sc && (!so.spilled || (!so.spilled.id && !so.spilled.refObjId)) && !so.iter && !so.dynptr) return true;
  // A slot no path from here accesses again: its bytes cannot decide anything (stacksafe's
  // "explored state didn't use this" on REG_LIVE_READ).
  if (exact === false && ctx.liveSlot && !ctx.liveSlot(cur, k, spi)) return true;
  // 'within' (a loop's state with incomplete marks): byte types as NOT_EXACT compares them, values
  // by containment, nothing excused as unread or imprecise (Linux 6.18 matches a state whose slot
  // holds MISC bytes with one that never wrote it, root allowed uninitialised reads)
  const within = exact === 'within';
  const rexact: Exactness = within ? 'range' : exact;
  if (exact === false || within) {
    // A 64-bit scalar spill against a slot of all-MISC bytes, either way round: a load from
    // the MISC slot gives an unbound scalar, so both compare as registers (the kernel's
    // scalar_reg_for_stack in stacksafe). The unbound one is imprecise, and an imprecise
    // old scalar matches any scalar.
    const oSpill = isScalarSpill64(so), cSpill = isScalarSpill64(sc);
    const oMisc = !oSpill && isAllMisc(so, ctx.allowUninitStack), cMisc = !cSpill && isAllMisc(sc, ctx.allowUninitStack);
    if (oMisc && (cSpill || cMisc)) return true;
    if (oSpill && cMisc) {
      if (!within && ctx.preciseSlot && !ctx.preciseSlot(cur, k, spi)) return true;
      if (regsafe(so.spilled!, UNBOUND, ids, rexact)) return true;
      return false;
    }
  }
  for (let j = 0; j < 8; j++) {
    const to = so.t[j]!;
    const tc = sc ? sc.t[j]! : STACK_INVALID;
    if (exact !== false && !within) {
      if (to !== tc) return false;
      continue;
    }
    if (to === STACK_INVALID) continue;
    if (ctx.allowUninitStack && to === STACK_MISC) continue;
    if (to === STACK_MISC && tc === STACK_ZERO) continue;
    if (to !== tc) return false;
  }
  // Iterator slots: the same kind and ACTIVE/DRAINED state, references in correspondence; the
  // depth does not count (stacksafe's STACK_ITER case).
  if (so.t[7] === STACK_ITER) {
    const io = so.iter, ic = sc?.iter;
    if (!io || !ic || io.kind !== ic.kind || io.state !== ic.state || !ids.check(io.refObjId, ic.refObjId)) return false;
    return true;
  }
  // Dynptr slots: the same type and slot, references in correspondence (stacksafe's
  // STACK_DYNPTR case; the id slices carry is compared on the slices themselves).
  if (so.t[0] === STACK_DYNPTR) {
    const d = so.dynptr, e = sc?.dynptr;
    if (!d || !e || d.type !== e.type || d.first !== e.first || !ids.check(d.refObjId, e.refObjId)) return false;
    return true;
  }
  if (so.t[7] === STACK_SPILL && so.spilled) {
    if (!sc?.spilled) return false;
    if (regsafe(so.spilled, sc.spilled, ids, rexact)) return true;
    // A spilled scalar whose value cannot matter any more: any spilled scalar will do.
    if (exact === false && so.spilled.type === 'scalar' && sc.spilled.type === 'scalar' && ctx.preciseSlot && !ctx.preciseSlot(cur, k, spi)) return true;
    return false;
  }
  return true;
}

/**
 * regsafe(r, r): the id pairs it records, and whether they hold (regs_exact checks id and
 * ref_obj_id of every type; otherwise a scalar its id, a pointer both, an unwritten one none).
 */
function sameRegIds(r: Reg, ids: IdMap, exact: Exactness): boolean {
  if (r.type === 'not_init' && exact !== true) return true;
  if (r.type === 'scalar' && exact !== true) return !r.id || ids.check(r.id, r.id);
  return (!r.id || ids.check(r.id, r.id)) && (!r.refObjId || ids.check(r.refObjId, r.refObjId));
}

/**
 * Where the last statesEqual found a register (frame << 4 | register) or a stack slot
 * (SLOT_MISS | frame << 6 | spi) that differs, or -1 (lastMiss).
 */
let missAt = -1;

/** missAt's flag for a stack slot (a frame has at most 64 slots: MAX_BPF_STACK / 8). */
const SLOT_MISS = 1 << 16;

/** Where the last statesEqual call failed on a register or stack slot (missAt), or -1: a hint for the next comparison with the same stored state. */
export function lastMiss(): number {
  return missAt;
}

/**
 * A sufficient condition for statesEqual(old, cur) to fail, on the one register or stack slot
 * `hint` names (missAt): a register that is live, not the same object, unsafe even with every id
 * pair allowed, and not an imprecise scalar pair; a slot slotSafe refuses with every id pair
 * allowed. (Ids only add failures, so this never fails a pair statesEqual passes.)
 */
function surelyUnsafe(old: VerifierState, cur: VerifierState, ctx: PruneContext, hint: number): boolean {
  if (hint & SLOT_MISS) {
    const k = (hint & ~SLOT_MISS) >> 6, spi = hint & 63;
    const so = old.frames[k]?.stack[spi], fc = cur.frames[k];
    return so !== undefined && fc !== undefined && !slotSafe(so, fc.stack[spi], LAX, false, ctx, cur, k, spi);
  }
  const k = hint >> 4, r = hint & 15;
  const fo = old.frames[k], fc = cur.frames[k];
  if (!fo || !fc || r >= 10) return false;
  if (!(ctx.liveMask(cur, k) & (1 << r))) return false;
  const o = fo.regs[r]!, c = fc.regs[r]!;
  if (o === c || regsafe(o, c, LAX)) return false;
  if (o.type === 'scalar' && c.type === 'scalar' && ctx.preciseMask && !(ctx.preciseMask(cur, k) & (1 << r))) return false;
  return true;
}

/** An id map in which every pair holds (surelyUnsafe). */
const LAX = new IdMap(true);

/** The id map of the comparison under way (one for all: a comparison runs at every prune point, for every stored state). */
const IDS = new IdMap();

/** check_ids in IDS. (A module function: a closure over statesEqual's locals would cost a context allocation per comparison.) */
const checkIds = (a: number, b: number): boolean => IDS.check(a, b);

/** An unknown scalar: what a load from a slot of MISC bytes gives (the kernel's unbound_reg). */
const UNBOUND = Reg.unknown();

/** The slot holds a spilled 64-bit scalar (is_spilled_scalar_reg64: its lowest byte is a spill byte). */
function isScalarSpill64(s: StackSlot | undefined): boolean {
  return s !== undefined && s.t[0] === STACK_SPILL && s.spilled?.type === 'scalar';
}

/** Every byte is MISC, or never written where uninitialised reads are allowed (is_stack_all_misc). */
function isAllMisc(s: StackSlot | undefined, allowUninit: boolean): boolean {
  for (let j = 0; j < 8; j++) {
    const t = s ? s.t[j]! : STACK_INVALID;
    if (t === STACK_MISC || (t === STACK_INVALID && allowUninit)) continue;
    return false;
  }
  return true;
}

/** A cheap first test for the loop check (the kernel's states_maybe_looping): the top frames' registers are identical. */
export function statesMaybeLooping(old: VerifierState, cur: VerifierState): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  const ro = old.frames[old.frames.length - 1]!.regs, rc = cur.frames[cur.frames.length - 1]!.regs;
  for (let r = 0; r < 10; r++) {
    const a = ro[r]!, b = rc[r]!;
    // (a register both states still share, state.ts copy-on-write, is identical: not read again)
    if (a === b) continue;
    if (a.type !== b.type || a.off !== b.off || !a.s.equals(b.s)) return false;
  }
  return true;
}
