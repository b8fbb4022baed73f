/**
 * Precision marks: what of a state matters when the walk compares it with an explored one. The
 * kernel learns it during the walk by backtracking (mark_chain_precision); tsbpf computes it
 * statically (precision.ts, stack-liveness.ts) and narrows it with what the walk has met: the
 * stack slots each load was seen reading, the edges taken and the branches decided at each
 * conditional jump, the instructions processed so far (iter.ts's widening). Sound because a
 * state is pruned only against an explored state whose paths were all walked; programs whose
 * loops end paths against unfinished states keep the static rules (prunesAgainstUnfinished).
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { isCondJump, jumpTarget } from '../isa/control-flow.js';
import type { CtxAccessQuery } from './progtypes/index.js';
import type { Cfg } from './cfg.js';
import { Scalar } from './scalar.js';
import { scalarBranchTaken } from './scalar-branch.js';
import { computePrecise, helperArgSinks, slotLive, slotMatters, type Precision } from './precision.js';
import type { VerifierState } from './state.js';
import type { Verifier } from './env.js';

/**
 * An instruction that lets isStateVisited end a path against a state still being explored:
 * may_goto, and the loops of iterators (kfuncs) and callbacks (a function pointer). A state whose
 * path ended so is finished before what follows its loop is walked, so the walk's records
 * (precision.ts BRANCH_*, an unseen load reading nothing) would miss what matters there; such
 * programs keep the static rules (Linux compares a loop's states RANGE_WITHIN until its loop
 * entry is done: is_state_visited's force_exact).
 */
function prunesAgainstUnfinished(ins: Insn): boolean {
  return ins.code === op.OP_MAY_GOTO || (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL) ||
    (ins.code === op.OP_LDDW && ins.src === op.BPF_PSEUDO_FUNC);
}

export class PrecisionMarks {
  private preciseIn: Precision | undefined;
  /** per load, the slots of its own frame it was seen reading through a pointer other than r10 (precision.ts StackReadsSeen) */
  private readonly stackReadsSeen = new Map<number, number[]>();
  private readonly readsSeen = { at: (i: number): ReadonlyArray<number> | undefined => this.stackReadsSeen.get(i) };
  /**
   * Per conditional jump, what the walk has recorded of it (precision.ts BRANCH_SINK,
   * BRANCH_FALL, BRANCH_TARGET). Undefined where the records are not used: a program whose
   * loops may be pruned against states whose paths are not all walked (prunesAgainstUnfinished).
   */
  private readonly branchesNoted: Uint8Array | undefined;
  private readonly walkedBranch: ((i: number) => number) | undefined;
  /** per conditional jump, 3 words: the current frame's registers and slots (lo, hi) linked to an operand there (noteBranchLinks) */
  private readonly branchLinks: Uint32Array | undefined;

  constructor(private readonly env: Verifier) {
    const n = env.insns.length;
    this.visited = new Uint8Array(n);
    if (!env.insns.some(prunesAgainstUnfinished)) {
      const d = (this.branchesNoted = new Uint8Array(n));
      this.walkedBranch = (i) => d[i]!;
      this.branchLinks = new Uint32Array(3 * n);
    } else this.branchesNoted = this.walkedBranch = this.branchLinks = undefined;
  }

  /** The walk processes instruction i (walkedPrecision's set). */
  noteVisited(i: number): void {
    if (this.visited[i]) return;
    this.visited[i] = 1;
    this.visitedCount++;
  }

  /** The prune context's liveSlot: static stack-slot liveness (stack-liveness.ts), every frame (callerSlotsAt). */
  liveSlot(st: VerifierState, k: number, spi: number): boolean {
    const p = this.precision();
    const at = this.env.callerSlotsAt(st, k, p.accessesCaller);
    return at < 0 || slotLive(p, at, spi);
  }

  /** The prune context's preciseMask: the registers of frame k that may matter, as compared now (prunePrecisionFor). */
  preciseMask(st: VerifierState, k: number): number {
    const p = this.precision();
    return k === st.frames.length - 1 && this.pruneSucc >= 0 ? p.regs[this.pruneSucc]! | this.pruneOps : this.preciseRegsOf(p, st, k);
  }

  /** The prune context's preciseSlot: whether slot spi of frame k may matter, as compared now. */
  preciseSlot(st: VerifierState, k: number, spi: number): boolean {
    const p = this.precision();
    return k === st.frames.length - 1 && this.pruneSucc >= 0 ? slotMatters(p, this.pruneSucc, spi) : this.preciseSlotOf(p, st, k, spi);
  }

  /**
   * The static precision analysis, computed the first time pruning needs it, and again after a
   * load reads a slot it was not seen reading. (Asked for every stack slot a state comparison
   * reaches: the closures that compute it live in another method, since a function holding
   * closures over `this` allocates a context on every call.)
   */
  precision(): Precision {
    const p = this.preciseIn;
    if (!p) return this.computePrecision();
    if (this.precisionDirty.length) {
      p.resolve!(this.precisionDirty);
      this.precisionDirty.length = 0;
    }
    return p;
  }
  /** the instructions the walk's records gave more sinks since the analysis last solved (precision.ts resolve) */
  private readonly precisionDirty: number[] = [];

  /** 1 for each instruction the walk has processed so far (walkedPrecision) */
  private readonly visited: Uint8Array;
  private visitedCount = 0;
  private walkedIn: Precision | undefined;
  private walkedAt = -1;

  /**
   * The static precision analysis over only the instructions the walk has processed so far and
   * the edges between them: what may matter along the paths explored until now. The kernel's
   * marks come from the paths it has backtracked (mark_chain_precision), so at a loop's
   * widening (iter.ts) a scalar whose only use is still unexplored is not precise there yet.
   */
  walkedPrecision(): Precision {
    if (this.walkedIn && this.walkedAt === this.visitedCount) return this.walkedIn;
    const { off, to, second, forward } = this.env.cfg.succ;
    const v = this.visited, n = this.env.insns.length;
    const off2 = new Int32Array(n + 1), to2 = new Int32Array(to.length);
    let k = 0;
    for (let i = 0; i < n; i++) {
      off2[i] = k;
      if (!v[i]) continue;
      for (let e = off[i]!; e < off[i + 1]!; e++) if (v[to[e]!]) to2[k++] = to[e]!;
    }
    off2[n] = k;
    this.walkedAt = this.visitedCount;
    return (this.walkedIn = this.precisionOver({ off: off2, to: to2, second, forward }));
  }

  /** walkedPrecision's registers of frame k in state `st` (the frame rule of the prune context's preciseMask) */
  walkedPreciseMask(st: VerifierState, k: number): number {
    return this.preciseRegsOf(this.walkedPrecision(), st, k);
  }

  /** walkedPrecision's stack slots (the frame rule of the prune context's preciseSlot) */
  walkedPreciseSlot(st: VerifierState, k: number, spi: number): boolean {
    return this.preciseSlotOf(this.walkedPrecision(), st, k, spi);
  }

  /**
   * The registers of frame k in `st` whose value may matter by `p`: at the current instruction
   * for the top frame; a caller resumes after its call with r6-r9, below a callback at the helper
   * call itself.
   */
  private preciseRegsOf(p: Precision, st: VerifierState, k: number): number {
    const top = st.frames.length - 1;
    if (k === top) return p.regs[this.env.idx]!;
    const above = st.frames[k + 1]!;
    if (above.callbackOf !== 0) return p.regs[above.callsite]!;
    return p.regs[above.callsite + 1]! & 0b1111000000;
  }

  /** Whether slot spi of frame k in `st` may matter by `p` (callerSlotsAt's frame rule). */
  private preciseSlotOf(p: Precision, st: VerifierState, k: number, spi: number): boolean {
    const at = this.env.callerSlotsAt(st, k, p.readsCaller);
    return at < 0 || slotMatters(p, at, spi);
  }

  private computePrecision(): Precision {
    this.precisionDirty.length = 0;
    return (this.preciseIn = this.precisionOver(this.env.cfg.succ));
  }

  /** The static precision analysis (precision.ts) of this program over the edges `succ`. */
  private precisionOver(succ: Cfg['succ']): Precision {
    return computePrecise(this.env.insns, this.env.cfg.subprogStarts, (id) => helperArgSinks(this.env.helper(id)?.proto, id), this.env.rules.retRange !== undefined,
      (j) => this.mapKeySizeAt(j), succ, this.env.maps.some((m) => m.fields?.kptrs), (j) => this.mapSizesAt(j),
      (start) => [...this.env.globals.values()].some((g) => g.start === start), this.readsSeen, (off) => this.ctxScalarAt(off), this.walkedBranch, this.branchLinks);
  }

  /** Whether a plain 4-byte read of the context at `off` gives a scalar (ctx.ts asks the same rules). */
  private ctxScalarAt(off: number): boolean {
    const q: CtxAccessQuery = { off, size: 4, write: false, signExtend: false, privileged: this.env.privileged };
    if (this.env.input.attachType) q.attachType = this.env.input.attachType;
    return this.env.rules.ctxAccess(q) === 'scalar';
  }

  /**
   * Where the top frame's precision is read while the current state is compared with the
   * explored state `old` at instruction i (isStateVisited): when i is a conditional jump that
   * old's scalar operands decide, the one successor the walk took from old, with the operands
   * themselves (a current state whose operands lie within old's decides the same way, so no path
   * from it takes the other edge). The kernel's marks are per state: only the paths walked from
   * old made anything precise (mark_chain_precision from is_branch_taken, nothing from the edge
   * never taken); the static masks of i hold both edges'.
   */
  prunePrecisionFor(old: VerifierState | undefined, i: number): void {
    this.pruneSucc = -1;
    this.pruneOps = 0;
    const ins = this.env.insns[i]!;
    if (!old || !isCondJump(ins) || op.opOf(ins.code) === op.BPF_JCOND) return;
    const regs = old.cur.regs;
    const dst = regs[ins.dst]!;
    const x = op.sourceOf(ins.code) === op.BPF_X;
    const jmp32 = op.classOf(ins.code) === op.BPF_JMP32;
    const src = x ? regs[ins.src]! : undefined;
    if (dst.type !== 'scalar' || (src && src.type !== 'scalar')) return;
    const taken = scalarBranchTaken(dst.s, src ? src.s : Scalar.known(jmp32 ? BigInt(ins.imm >>> 0) : BigInt(ins.imm)), op.opOf(ins.code), jmp32);
    if (taken < 0) return;
    this.pruneSucc = taken === 1 ? jumpTarget(ins, i) : i + 1;
    this.pruneOps = (1 << ins.dst) | (x ? 1 << ins.src : 0);
  }
  /** (prunePrecisionFor: the successor whose masks hold for the comparison in progress, or -1, and the operands) */
  private pruneSucc = -1;
  private pruneOps = 0;

  /**
   * What the walk met at the conditional jump at i (precision.ts BRANCH_*): the edges it goes on
   * by, and whether the operands decided it (check_cond_jmp_op's is_branch_taken, or one side
   * impossible) or its comparison narrows a scalar of another frame sharing an operand's id;
   * noteBranchLinks: the registers (bits) and slots (lo, hi) of the current frame it narrows so.
   */
  noteBranchLinks(i: number, regs: number, lo: number, hi: number): void {
    const l = this.branchLinks;
    if (!l) return;
    const r = l[3 * i]! | regs, a = (l[3 * i + 1]! | lo) >>> 0, b = (l[3 * i + 2]! | hi) >>> 0;
    if (r === l[3 * i] && a === l[3 * i + 1] && b === l[3 * i + 2]) return;
    l[3 * i] = r;
    l[3 * i + 1] = a;
    l[3 * i + 2] = b;
    if (this.preciseIn) this.precisionDirty.push(i);
  }
  noteBranch(i: number, bits: number): void {
    const d = this.branchesNoted;
    if (!d || (d[i]! & bits) === bits) return;
    d[i]! |= bits;
    if (this.preciseIn) this.precisionDirty.push(i);
  }

  /** The load at i reads bytes [lo, hi) below r10 of its own frame through a pointer other than r10. */
  noteStackRead(i: number, lo: number, hi: number): void {
    let w = this.stackReadsSeen.get(i);
    // (a load seen for the first time reads fewer slots than the static rule's every one: the
    // analysis starts again, unless the jump records are used, where an unseen load reads
    // nothing; one seen reading more only grows, and is solved again from where it was)
    if (!w) {
      this.stackReadsSeen.set(i, (w = [0, 0]));
      if (!this.walkedBranch) this.preciseIn = undefined;
    }
    let a = w[0]!, b = w[1]!;
    for (let byte = lo; byte < hi; byte++) {
      const spi = (-byte - 1) >> 3;
      if (spi < 0 || spi >= 64) continue;
      if (spi < 32) a = (a | (1 << spi)) >>> 0;
      else b = (b | (1 << (spi - 32))) >>> 0;
    }
    if (a === w[0] && b === w[1]) return;
    w[0] = a;
    w[1] = b;
    if (this.preciseIn) this.precisionDirty.push(i);
  }

  /**
   * For the lddw at instruction j of a map pointer: the key and value sizes helper checks read
   * through a key or value argument (mapKeyValueArg); undefined when j loads no map pointer, or
   * for a sockmap or sockhash, whose value argument is a socket.
   */
  private mapSizesAt(j: number): { keySize: number; valueSize: number } | undefined {
    const ins = this.env.insns[j]!;
    if (ins.src !== op.BPF_PSEUDO_MAP_FD && ins.src !== op.BPF_PSEUDO_MAP_IDX) return undefined;
    const m = this.env.input.mapOfInsn ? this.env.input.mapOfInsn(j) : ins.imm;
    const info = m === undefined ? undefined : this.env.maps[m];
    if (!info || info.type === 'sockmap' || info.type === 'sockhash') return undefined;
    return { keySize: info.keySize, valueSize: info.valueSize };
  }

  /**
   * For the lddw at instruction j of a map pointer: how many bytes of a key the checks of a lookup
   * read, its key size for an array (a constant key in range makes the value non-NULL, helper-ret.ts)
   * and 0 for other maps; undefined when j loads no map pointer.
   */
  private mapKeySizeAt(j: number): number | undefined {
    const ins = this.env.insns[j]!;
    if (ins.src !== op.BPF_PSEUDO_MAP_FD && ins.src !== op.BPF_PSEUDO_MAP_IDX) return undefined;
    const m = this.env.input.mapOfInsn ? this.env.input.mapOfInsn(j) : ins.imm;
    const info = m === undefined ? undefined : this.env.maps[m];
    if (!info) return undefined;
    return info.type === 'array' || info.type === 'percpu_array' ? info.keySize : 0;
  }
}
