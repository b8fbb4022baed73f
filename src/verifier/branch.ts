/**
 * Conditional jumps and may_goto: whether a branch is decided by what is
 * known (is_branch_taken), and otherwise what each side learns: scalar
 * bounds (reg_set_min_max, with the copies sharing an id: sync_linked_regs),
 * a pointer that is or is not NULL (mark_ptr_or_null_regs) and packet
 * ranges (packet.ts). Both sides that are possible go on: one now, one on
 * the explorer's stack (push_stack). Follows check_cond_jmp_op.
 */
import { jumpTarget } from '../isa/control-flow.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg, type RegType } from './types.js';
import { Scalar } from './scalar.js';
import { scalarAlu } from './scalar-alu.js';
import { immOperand } from './alu.js';
import { Reject } from './reject.js';
import { isTrustedReg } from './kfunc-args.js';
import { isSock, sockOfMapValue } from './sock.js';
import { BPF_MAX_VAR_OFF, type Verifier } from './env.js';
import { scalarBranchTaken, branchScalarsInto, flipCond, type BranchSides } from './scalar-branch.js';
import { VerifierState } from './state.js';
import { isPktCompare, pktBranchTaken, pktCompare } from './packet.js';
import { pushStack } from './do-check.js';
import { keepsLockId } from './spin-lock.js';
import { BRANCH_FALL, BRANCH_SINK, BRANCH_TARGET } from './precision.js';

/**
 * may_goto (Linux 6.9, check_cond_jmp_op's BPF_JCOND case): either side is
 * possible. The jump is followed first; the fall-through is queued one
 * may_goto level deeper, which lets isStateVisited treat a loop through
 * the may_goto as converged once its state is contained in an earlier one.
 */
export function checkMayGoto(env: Verifier, i: number, ins: Insn): number {
  if (ins.code !== op.OP_MAY_GOTO || ins.src !== op.BPF_MAY_GOTO || ins.dst !== 0 || ins.imm !== 0 || ins.off === 0)
    throw new Reject({ errno: 'EINVAL', message: `invalid may_goto off ${ins.off} imm ${ins.imm}`, insn: i });
  const target = jumpTarget(ins, i);
  const fall = env.cur.clone();
  // Widen (widen_imprecise_scalars): a scalar that changed since the previous
  // pass through this may_goto on this path becomes unknown in the next
  // iteration, so that the loop's states converge. Like Linux, only
  // *imprecise* scalars are widened: a register whose value may matter from
  // the fall-through on (the static precision of precision.ts, a superset of
  // the kernel's marks) stays exact, so `for (i = 0; i < N && can_loop; i++)
  // a[i] = i;` unrolls with i known instead of losing its bound. Widening is
  // always sound; keeping a value exact only costs iterations, which the
  // may_goto depth check above or the instruction limit ends. The static
  // marks are a superset of the kernel's (every branch operand counts, not
  // only predicted ones), so a loop that keeps a value exact only here must
  // still converge: past MAY_GOTO_EXACT_DEPTH passes on one path, or a
  // quarter of the instruction budget, every changed scalar is widened.
  // Unprivileged loads have no precision marks: every changed scalar is widened.
  let prev: VerifierState | undefined;
  for (const c of env.explored.get(i) ?? []) {
    if (c.branches !== 0 && c.state.mayGotoDepth < fall.mayGotoDepth && (!prev || c.state.mayGotoDepth > prev.mayGotoDepth)) prev = c.state;
  }
  if (prev && prev.frames.length === fall.frames.length) {
    const p = env.privileged && fall.mayGotoDepth < MAY_GOTO_EXACT_DEPTH && env.processed <= env.limit / 4 ? env.marks.precision() : undefined;
    const top = fall.frames.length - 1;
    for (let k = 0; k < fall.frames.length; k++) {
      const regs = fall.frames[k]!.regs, old = prev.frames[k]!.regs;
      // the same frame rule as the pruning masks: the top frame from i + 1, a caller from its return
      const precise = !p ? 0 : k === top ? p.regs[i + 1]! : p.regs[fall.frames[k + 1]!.callsite + 1]! & 0b1111000000;
      for (let r = 0; r < 10; r++) {
        if ((precise >> r) & 1) continue;
        const a = regs[r]!, b = old[r]!;
        if (a.type === 'scalar' && b.type === 'scalar' && !a.s.equals(b.s)) regs[r] = Reg.unknown();
      }
    }
  }
  fall.mayGotoDepth++;
  fall.path = { insn: i, to: i + 1, taken: false, prev: fall.path };
  env.cur.path = { insn: i, to: target, taken: true, prev: env.cur.path };
  pushStack(env, fall, i + 1, i);
  return target;
}

export function checkCondJmp(env: Verifier, i: number, ins: Insn, jmp32: boolean): number {
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  const dst = env.readReg(ins.dst);
  const src = x ? env.readReg(ins.src) : immOperand(ins.imm, jmp32);
  const target = jumpTarget(ins, i);
  const fall = i + 1;
  // A comparison of a stack pointer is an entry of the path's instruction history
  // (check_cond_jmp_op's INSN_F_DST_REG_STACK / INSN_F_SRC_REG_STACK).
  if (dst.type === 'fp' || (x && src.type === 'fp')) env.noteInsnHist();
  const taken = branchTaken(dst, src, o, jmp32);
  if (taken === 1 || taken === 0) {
    // Only one side is possible (a non-NULL pointer against 0 included): no pointer-compare rule
    // applies. The operands decided it (mark_chain_precision after is_branch_taken).
    env.marks.noteBranch(i, BRANCH_SINK | (taken === 1 ? BRANCH_TARGET : BRANCH_FALL));
    return taken === 1 ? target : fall;
  }
  // So is an undecided one of a scalar other registers or spills share an id with: the kernel
  // records the linked registers there for backtracking (collect_linked_regs, push_insn_history).
  // (and the comparison narrows them with the operands: the operands' values matter to them)
  const ida = dst.type === 'scalar' ? dst.id : 0, idb = x && src.type === 'scalar' ? src.id : 0;
  const linked = linkedRegs(env, env.cur, ida, idb);
  if (linked.length > 1) {
    env.noteInsnHist();
    // noteLinks records every same-id copy, a superset of what linkedRegs narrows: sound.
    noteLinks(env, i, ida, idb);
  }
  const other = env.cur.cloneOwning(ins.dst, x ? ins.src : -1, dst.type === 'scalar' && src.type === 'scalar');
  const tRegs = other.cur.regs, fRegs = env.cur.cur.regs;
  const tSt = other, fSt = env.cur;
  let tOk = true, fOk = true;
  if (dst.type === 'scalar' && src.type === 'scalar') {
    // (a K operand's refinement is not kept: it is the shared immediate)
    const b = SIDES;
    branchScalarsInto(dst.s, src.s, o, jmp32, x, b);
    if (b.ta) {
      setScalar(tSt, tRegs[ins.dst]!, b.ta, linked);
      if (x) setScalar(tSt, tRegs[ins.src]!, b.tb!, linked);
    } else tOk = false;
    if (b.fa) {
      setScalar(fSt, fRegs[ins.dst]!, b.fa, linked);
      if (x) setScalar(fSt, fRegs[ins.src]!, b.fb!, linked);
    } else fOk = false;
  } else if (isNullCheck(dst, src, o, jmp32, x)) {
    const eqSt = o === op.BPF_JEQ ? tSt : fSt;
    const neSt = o === op.BPF_JEQ ? fSt : tSt;
    // dst belongs to the fall-through state, which the marking rewrites: keep its ids first.
    const like = dst.clone();
    markPtrOrNull(eqSt, like, true);
    markPtrOrNull(neSt, like, false, sockOfMapValue(env, like), keepsLockId(env, like));
  } else if (isPktCompare(dst, src, jmp32)) {
    pktCompare(tSt, fSt, dst, src, o, ins.dst, x ? ins.src : -1);
  } else if (dst.isPointer || src.isPointer) {
    if (!env.privileged) throw new Reject({
      errno: 'EACCES',
      message: `R${ins.dst} pointer comparison prohibited`,
      insn: i,
      regs: [ins.dst, x ? ins.src : -1],
    });
    // ptr == ptr: a non-NULL side makes the other non-NULL too.
    if (x && dst.isPointer && src.isPointer && !jmp32 && (o === op.BPF_JEQ || o === op.BPF_JNE)) {
      const eq = o === op.BPF_JEQ ? tSt : fSt;
      const er = eq.cur.regs;
      if (!dst.maybeNull && src.maybeNull) er[ins.src]!.maybeNull = false;
      if (!src.maybeNull && dst.maybeNull) er[ins.dst]!.maybeNull = false;
    }
  }
  // A side the comparison's narrowing finds impossible is decided by the operands too.
  if (!tOk || !fOk) env.marks.noteBranch(i, BRANCH_SINK);
  env.marks.noteBranch(i, (tOk ? BRANCH_TARGET : 0) | (fOk ? BRANCH_FALL : 0));
  if (tOk && fOk) {
    // (the decisions are written out here: a closure for them was a context and a function per jump)
    tSt.path = { insn: i, to: target, taken: true, prev: tSt.path };
    fSt.path = { insn: i, to: fall, taken: false, prev: fSt.path };
    pushStack(env, tSt, target, i);
    return fall;
  }
  if (tOk) {
    env.cur = tSt;
    return target;
  }
  if (fOk) return fall;
  return -1;
}

/**
 * collect_linked_regs (Linux 6.18): the scalars of `st` sharing id a or b that a branch's
 * refinement reaches, from the innermost frame out: the registers live at the frame's
 * instruction (live_regs_before at frame_insn_idx: the branch, or the call a caller waits at),
 * then the spills in slots some path may still read (stack liveness: Linux 6.18 leaves a dead
 * caller's spill unrefined, Falco's recvmmsg_x at 1555); at most LINKED_REGS_MAX in all, the
 * compared registers among them. Each is a position: frame << 8 | r for a register,
 * frame << 8 | 0x80 | spi for a spill.
 */
function linkedRegs(env: Verifier, st: VerifierState, a: number, b: number): number[] {
  const out: number[] = [];
  if (!a && !b) return out;
  const last = st.frames.length - 1;
  for (let k = last; k >= 0; k--) {
    const f = st.frames[k]!;
    const live = env.cfg.liveIn[k === last ? env.idx : st.frames[k + 1]!.callsite]!;
    for (let r = 0; r < 10; r++) {
      if (!(live & (1 << r)) || !sharesId(f.regs[r], a, b)) continue;
      out.push((k << 8) | r);
      if (out.length === LINKED_REGS_MAX) return out;
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      if (!sharesId(f.stack[spi]?.spilled, a, b)) continue;
      if (env.pruneCtx.liveSlot && !env.pruneCtx.liveSlot(st, k, spi)) continue;
      out.push((k << 8) | 0x80 | spi);
      if (out.length === LINKED_REGS_MAX) return out;
    }
  }
  return out;
}
const LINKED_REGS_MAX = 6;

/** Whether r is a scalar carrying the non-zero id a or b (a copy a comparison of a or b narrows). */
function sharesId(r: Reg | null | undefined, a: number, b: number): boolean {
  return r != null && r.type === 'scalar' && r.id !== 0 && (r.id === a || r.id === b);
}

/**
 * The registers and spills of the current frame sharing id a or b at the jump at i, for the
 * static precision (env.marks.noteBranchLinks: the operands matter where one of them does, as
 * bt_sync_linked_regs marks them); one in another frame makes the operands sinks.
 */
function noteLinks(env: Verifier, i: number, a: number, b: number): void {
  const st = env.cur, top = st.frames.length - 1;
  let regs = 0, lo = 0, hi = 0;
  for (let k = 0; k <= top; k++) {
    const f = st.frames[k]!;
    for (let r = 0; r < 10; r++) {
      if (!sharesId(f.regs[r], a, b)) continue;
      if (k !== top) return env.marks.noteBranch(i, BRANCH_SINK);
      regs |= 1 << r;
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      if (!sharesId(f.stack[spi]?.spilled, a, b)) continue;
      if (k !== top || spi >= 64) return env.marks.noteBranch(i, BRANCH_SINK);
      if (spi < 32) lo = (lo | (1 << spi)) >>> 0;
      else hi = (hi | (1 << (spi - 32))) >>> 0;
    }
  }
  env.marks.noteBranchLinks(i, regs, lo, hi);
}
/** checkCondJmp's branchScalarsInto result, reused (a branch's refinement does not nest). */
const SIDES: BranchSides = { ta: null, tb: null, fa: null, fb: null };

export function setScalar(st: VerifierState, reg: Reg, s: Scalar, linked: readonly number[]): void {
  reg.s = s;
  if (reg.id) {
    // Copies of the same scalar learn the same bounds, shifted by their constant offsets
    // (sync_linked_regs), those collect_linked_regs found (linkedRegs).
    for (const pos of linked) {
      const f = st.frames[pos >> 8]!;
      const p = pos & 0xff;
      const cur = p & 0x80 ? f.stack[p & 0x7f]?.spilled : f.regs[p];
      if (!cur || cur === reg || cur.type !== 'scalar' || cur.id !== reg.id) continue;
      const r = p & 0x80 ? f.slot(p & 0x7f).ownSpilled()! : f.reg(p);
      const v = s.clone();
      if ((r.addConst || reg.addConst) && r.linkOff !== reg.linkOff) scalarAlu(op.BPF_ADD, v, Scalar.known(BigInt(r.linkOff - reg.linkOff)), false);
      r.s = v;
    }
  }
}

function branchTaken(a: Reg, b: Reg, o: number, jmp32: boolean): 0 | 1 | -1 {
  if (a.type === 'scalar' && b.type === 'scalar') return scalarBranchTaken(a.s, b.s, o, jmp32);
  if ((a.isPkt || a.type === 'pkt_end') && (b.isPkt || b.type === 'pkt_end')) return jmp32 ? -1 : pktBranchTaken(a, b, o);
  if (jmp32) return -1;
  // A pointer known non-NULL compared with 0.
  let p = a, c = b, opc = o;
  if (!(c.type === 'scalar' && c.s.isConst())) { p = b; c = a; opc = flipCond(o); }
  if (!(c.type === 'scalar' && c.s.isConst())) return -1;
  if (p.maybeNull || c.s.varOff.value !== 0n) return -1;
  // reg_not_null: only these bases are never NULL (not ctx, the stack or the packet, whose
  // comparisons with 0 Linux explores both ways; a PTR_TO_BTF_ID only when trusted or referenced), and only
  // while base + offset cannot wrap to 0
  if (!(p.type === 'map_value' || p.type === 'map_key' || p.type === 'mem' || p.type === 'buf' || p.type === 'map_ptr' || isSock(p) || (p.type === 'btf_id' && isTrustedReg(p)))) return -1;
  if (p.s.smin <= -BigInt(BPF_MAX_VAR_OFF) || p.s.smax >= BigInt(BPF_MAX_VAR_OFF)) return -1;
  if (opc === op.BPF_JEQ) return 0;
  if (opc === op.BPF_JNE) return 1;
  return -1;
}

function isNullCheck(dst: Reg, src: Reg, o: number, jmp32: boolean, x: boolean): boolean {
  return !jmp32 && !x && (o === op.BPF_JEQ || o === op.BPF_JNE) && dst.maybeNull && src.isNull;
}

/** mark_ptr_or_null_regs: every copy of the pointer becomes NULL (a scalar 0) or a valid pointer. */
function markPtrOrNull(st: VerifierState, like: Reg, isNull: boolean, becomes?: RegType, keepId = false): void {
  const id = like.id;
  if (!id) return;
  const fix = (r: Reg): void => {
    if (isNull) {
      const z = Reg.known(0n);
      Object.assign(r, z);
    } else {
      r.maybeNull = false;
      if (becomes) r.type = becomes;
      // (a socket's reference lives on in ref_obj_id alone: Linux logs `sock(ref_obj_id=2)`; a map
      // value with a bpf_spin_lock keeps its id: it names the lock, reg_may_point_to_spin_lock)
      if (isSock(r) || (!r.refObjId && !keepId)) r.id = 0;
    }
  };
  // (a register or slot that changes is made the frame's own first: Frame.reg, Frame.slot)
  for (const r of st.allRegs((x) => x.maybeNull && x.id === id)) fix(r);
  // A NULL reservation or lookup holds nothing to release; a NULL cast of a referenced pointer (sk_fullsock,
  // bpf_tcp_sock, skc_to_*) leaves its source's reference held (mark_ptr_or_null_regs: ref_obj_id == id only)
  if (isNull && like.refObjId && (like.refObjId === like.id || like.ringbuf)) st.refs = st.refs.filter((r) => r.id !== like.refObjId);
}

/** may_goto passes on one path after which precise scalars are widened too (checkMayGoto) */
const MAY_GOTO_EXACT_DEPTH = 2048;
