/**
 * The path explorer and its pruning hook (the kernel's do_check and
 * is_state_visited): a path runs instruction by instruction, each family's
 * module checking the instruction and changing the state; the other side of
 * a branch goes on a stack (push_stack) to be explored after; at prune
 * points a state contained in one already proven safe ends the path
 * (prune.ts: states_equal), and a path that comes back to the same state
 * with no progress is an infinite loop.
 */
import { callsKfuncCallback } from './kfuncs.js';
import { jumpTarget } from '../isa/control-flow.js';
import * as op from '../isa/opcodes.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { VerifierState, sameCallsites } from './state.js';
import { checkExit, checkCall } from './call.js';
import { frameStr, stateStr, insnLine } from './log.js';
import { statesEqual, statesMaybeLooping, lastMiss } from './prune.js';
import { iterActiveAt, iterActiveDepthsDiffer } from './iter.js';
import { callsCallback } from './cfg.js';
import { SccVisits, computeScc } from './scc.js';
import { checkLdx, checkStore, checkAtomic } from './ldst.js';
import { checkLdImm64 } from './ld-imm64.js';
import { checkLdAbs } from './ld-abs.js';
import { checkAlu } from './alu.js';
import { checkMayGoto, checkCondJmp } from './branch.js';

/** Explore every path from `st` at instruction `start` (do_check). */
export function explore(env: Verifier, st: VerifierState, start: number): void {
  env.cur = st;
  env.idx = start;
  if (env.logLevel > 0) env.log(`${start}: ${frameStr(st.cur, env)}`);
  let from = -1;
  for (;;) {
    runPath(env, from);
    const next = env.work.pop();
    if (!next) break;
    env.cur = next.st;
    env.idx = next.insn;
    env.cp = next.cp;
    from = next.from;
    if (env.logLevel > 0) {
      env.log('');
      env.log(`from ${next.from} to ${next.insn}: ${stateStr(env.cur, env)}`);
      if (env.logLevel > 1) env.log(`${next.insn}: ${stateStr(env.cur, env)}`);
    }
  }
}

/** Explore from the current state until the path ends; returns when it exits or is pruned. */
function runPath(env: Verifier, from: number): void {
  let startOfPath = from >= 0;
  for (;;) {
    const i = env.idx;
    if (++env.processed > env.limit)
      throw new Reject({
        errno: 'E2BIG',
        message: `BPF program is too large. Processed ${env.processed} insn`,
        insn: i,
        rule: 'the verifier explored more than 1,000,000 instructions across all paths; simplify loops or reduce branching',
      });
    env.marks.noteVisited(i);
    if (env.cfg.prunePoint[i]) {
      if (isStateVisited(env, i)) {
        if (env.logLevel > 0) env.log(startOfPath ? `from ${from} to ${i}: safe` : `${i}: safe`);
        endPath(env);
        return;
      }
    }
    startOfPath = false;
    // do_check: a jump point goes into the path's instruction history (after is_state_visited)
    if (env.cfg.jmpPoint[i]) env.noteInsnHist();
    if (env.logLevel > 0) logInsnStart(env, i);
    const next = step(env, i);
    if (env.logLevel > 0) {
      // The kernel prints no state after an exit.
      if (next < 0 || env.insns[i]!.code === op.OP_EXIT) { env.scratchRegs.clear(); env.scratchSlots.clear(); }
      env.flushInsnLog();
    }
    if (next < 0) {
      endPath(env);
      return;
    }
    env.idx = next;
  }
}

/**
 * The log's line for instruction i, before it runs. (Its own function: closures over the walk's
 * loop variable would make V8 allocate a context for every instruction, logging or not.)
 */
function logInsnStart(env: Verifier, i: number): void {
  if (env.logLevel > 1) {
    env.scratchRegs.clear();
    env.scratchSlots.clear();
  }
  env.logSourceLine(i);
  env.logInsnPending = insnLine(env.insns, i, (id) => env.helperLogName(id), () => env.input.kfuncOfInsn?.(i));
}

function endPath(env: Verifier): void {
  env.curStates--;
  let c = env.cp;
  while (c) {
    c.branches--;
    if (c.branches > 0) break;
    // update_branch_counts' maybe_exit_scc: every path from a loop's entry state is explored
    env.sccVisits?.exit(c, c.state, c.insn);
    c = c.parent;
  }
}

/** The loops' visits (scc.ts), made at the first prune point; null for a program without loops. */
function sccVisitsOf(env: Verifier): SccVisits | null {
  if (env.sccVisits === undefined) {
    const scc = computeScc(env.insns, env.cfg.succ, (i) => callsCallback(env.insns[i]!) || callsKfuncCallback(env, i));
    env.sccVisits = scc.some((x) => x !== 0) ? new SccVisits(scc) : null;
  }
  return env.sccVisits;
}

/**
 * isStateVisited's end on a match with the explored state c at i: one more hit for c, a backedge
 * of its loop where the comparison was one (scc, else null), and no comparison in progress.
 */
function pruned(env: Verifier, c: Checkpoint, scc: SccVisits | null, i: number): true {
  c.hit++;
  scc?.addBackedge(c.state, i);
  env.marks.prunePrecisionFor(undefined, i);
  return true;
}

/**
 * Remember the state at a prune point, or stop when a proven state contains it
 * (is_state_visited). The stored states at an instruction are tried newest first; a miss
 * counts only when the current state is going to be stored, and a state that keeps missing is
 * dropped (miss_cnt > hit_cnt * n + n; n = 64 for a forced checkpoint still being explored, else
 * 3): losing a state only costs pruning, never soundness.
 */
export function isStateVisited(env: Verifier, i: number): boolean {
  const list = env.explored.get(i);
  const cur = env.cur;
  // forced checkpoints (mark_force_checkpoint): may_goto, an iterator's _next, a helper call that
  // calls its callback again after each return (the kernel's calls_callback)
  const isMayGoto = env.insns[i]?.code === op.OP_MAY_GOTO;
  const isIterNext = env.iterNext.size !== 0 && env.iterNext.has(i);
  const isCallsCallback = callsCallback(env.insns[i]!) || callsKfuncCallback(env, i);
  // (and a path whose instruction history since its last checkpoint grew past 40 entries: the
  // kernel forces one to avoid accumulating an infinitely long history)
  const force = isMayGoto || isIterNext || isCallsCallback || cur.insnHist > 40;
  // Not before 2 jumps and 8 instructions since the last stored state, unless forced.
  let add = force || (env.jmpsProcessed - env.prevJmpsProcessed >= 2 && env.processed - env.prevInsnProcessed >= 8);
  const statesCnt = list ? list.length : 0;
  const scc = list ? sccVisitsOf(env) : null;
  // incomplete_read_marks for the states here with cur's call sites (the others cannot match)
  const loop = scc !== null && scc.incomplete(cur, i);
  if (list && scc && !loop) {
    // clean_live_states: a finished state whose loop marks are complete is cleaned (its dead
    // registers and stack slots forgotten), which a later RANGE_WITHIN comparison sees
    for (const c of list) if (c.branches === 0 && !c.cleaned && sameCallsites(c.state, cur)) c.cleaned = true;
  }
  if (list) {
    for (let k = list.length - 1; k >= 0; k--) {
      const c = list[k]!;
      env.marks.prunePrecisionFor(c.state, i);
      if (c.branches === 0) {
        // A state of a loop whose visit has backedges: its marks are not final, so RANGE_WITHIN
        // (is_state_visited's `loop ? RANGE_WITHIN : NOT_EXACT`, Linux 6.17+); a match is one
        // more backedge.
        if (loop && sameCallsites(c.state, cur)) {
          if (statesEqual(c.state, cur, env.pruneCtx, 'within', -1, c.cleaned)) {
            return pruned(env, c, scc, i);
          }
        } else if (statesEqual(c.state, cur, env.pruneCtx, false, c.missAt)) {
          return pruned(env, c, null, i);
        } else c.missAt = lastMiss();
      } else {
        if (isCallsCallback) {
          // A callback's return to its helper call (callback.ts): a state contained, range for
          // range, in an earlier iteration's state at this call still being explored is a
          // fixpoint (the helper bounds the calls). No infinite-loop check here.
          if (statesEqual(c.state, cur, env.pruneCtx, 'range')) {
            return pruned(env, c, scc, i);
          }
        } else if (isIterNext) {
          // An iterator loop (is_state_visited's is_iter_next_insn case; iter.ts): _next returns
          // NULL sooner or later and ever after, so a state contained, range for range (the live
          // registers, every stack byte, no precision excused), in an earlier iteration's state at this call while the
          // iterator is still ACTIVE is a fixpoint. No infinite-loop check at these calls.
          if (statesEqual(c.state, cur, env.pruneCtx, 'range') && iterActiveAt(cur)) {
            return pruned(env, c, scc, i);
          }
        } else {
          // A loop through a may_goto ends (the counter runs out): a state
          // contained in an earlier one at another may_goto depth has converged.
          if (isMayGoto && c.state.mayGotoDepth !== cur.mayGotoDepth && statesEqual(c.state, cur, env.pruneCtx)) {
            return pruned(env, c, scc, i);
          }
          if (statesMaybeLooping(c.state, cur) && c.state.mayGotoDepth === cur.mayGotoDepth && !iterActiveDepthsDiffer(c.state, cur) && c.state.callbackUnrollDepth === cur.callbackUnrollDepth && statesEqual(c.state, cur, env.pruneCtx, true)) {
            // The very same state again on this path: a loop that makes no progress.
            throw new Reject({
              errno: 'EINVAL',
              message: `infinite loop detected at insn ${i}\ncur state: ${stateStr(cur, env)}\nold state: ${stateStr(c.state, env)}`,
              insn: i,
              hint: 'make the loop condition depend on a counter that changes every iteration and is bounded',
              rule: 'the loop can repeat in the same state forever: the verifier cannot prove that it terminates',
            });
          }
        }
        // Inside a loop, iterations rarely match each other: store a state only after 20 jumps or
        // 100 instructions (skip_inf_loop_check).
        if (!force && env.jmpsProcessed - env.prevJmpsProcessed < 20 && env.processed - env.prevInsnProcessed < 100) add = false;
      }
      if (add) c.miss++;
      const n = force && c.branches > 0 ? 64 : 3;
      if (c.miss > c.hit * n + n) list.splice(k, 1);
    }
  }
  env.marks.prunePrecisionFor(undefined, i);
  // (unprivileged: at most 64 states per instruction, BPF_COMPLEXITY_LIMIT_STATES)
  if (!add || (!env.privileged && statesCnt > 64)) return false;
  env.prevJmpsProcessed = env.jmpsProcessed;
  env.prevInsnProcessed = env.processed;
  // a new checkpoint starts the path's history afresh (insn_hist_start = insn_hist_end)
  cur.insnHist = 0;
  const cp: Checkpoint = { state: cur.clone(), branches: 1, parent: env.cp, hit: 0, miss: 0, missAt: -1, insn: i, cleaned: false };
  env.cp = cp;
  (scc ?? sccVisitsOf(env))?.enter(cp, cp.state, i);
  env.totalStates++;
  if (list) list.push(cp);
  else env.explored.set(i, [cp]);
  return false;
}

/** Queue the other side of a branch (push_stack). */
export function pushStack(env: Verifier, st: VerifierState, insn: number, from: number): void {
  if (env.cp) env.cp.branches++;
  env.work.push({ st, insn, from, cp: env.cp });
  env.curStates++;
  if (env.curStates > env.peakStates) env.peakStates = env.curStates;
  if (env.work.length > 8192) throw new Reject({
    errno: 'E2BIG',
    message: `The sequence of ${env.work.length} jumps is too complex.`,
    insn: from,
  });
}

// ------------------------------------------------------------------
// One instruction. Returns the next instruction index, or -1 when the path ends.

export function step(env: Verifier, i: number): number {
  const ins = env.insns[i]!;
  const cls = op.classOf(ins.code);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      checkAlu(env, ins, cls === op.BPF_ALU);
      return i + 1;
    case op.BPF_LDX:
      checkLdx(env, ins);
      return i + 1;
    case op.BPF_ST:
    case op.BPF_STX:
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) checkAtomic(env, ins);
      else checkStore(env, ins, cls === op.BPF_STX);
      return i + 1;
    case op.BPF_LD:
      if (ins.code === op.OP_LDDW) {
        checkLdImm64(env, i, ins);
        return i + 2;
      }
      return checkLdAbs(env, ins);
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      env.jmpsProcessed++;
      const o = op.opOf(ins.code);
      if (o === op.BPF_EXIT) return checkExit(env);
      if (o === op.BPF_CALL) return checkCall(env, i, ins);
      if (o === op.BPF_JA) return jumpTarget(ins, i);
      if (o === op.BPF_JCOND) return checkMayGoto(env, i, ins);
      return checkCondJmp(env, i, ins, cls === op.BPF_JMP32);
    }
  }
  throw new Reject({ errno: 'EINVAL', message: `unknown opcode ${ins.code.toString(16).padStart(2, '0')}`, insn: i });
}

export interface Checkpoint {
  state: VerifierState;
  branches: number;
  parent: Checkpoint | null;
  hit: number;
  miss: number;
  /** where the last comparison with this state found a register or stack slot that differs (prune.ts lastMiss), tried first next time */
  missAt: number;
  /** its instruction */
  insn: number;
  /** clean_live_states has cleaned it (scc.ts): its dead slots read as never written in a RANGE_WITHIN comparison */
  cleaned: boolean;
}

export interface WorkItem {
  st: VerifierState;
  insn: number;
  from: number;
  cp: Checkpoint | null;
}
