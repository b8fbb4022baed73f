/**
 * Control-flow graphs of eBPF functions: basic blocks, reverse postorder,
 * dominators and the reducibility test the structuring step needs.
 *
 * A program is split into functions the way the kernel splits it into
 * subprograms (check_subprogs): slot 0 and every target of a bpf-to-bpf call
 * or of a function-pointer lddw start one. Each function's blocks are the
 * ones reachable from its entry along jumps and fall-through, so code the
 * entry cannot reach is never compiled (the verifier rejects it anyway,
 * and an unverified program can never execute it).
 */
import type { Insn } from '../../isa/insn.js';
import * as op from '../../isa/opcodes.js';
import { isJump, jumpTarget } from '../../isa/control-flow.js';
import { InstructionError } from '../../errors.js';

/** How a basic block ends ({@link FunctionCfg.term}). */
/** `exit`: return r0 */
export const TERM_EXIT = 0;
/** unconditional jump (ja/gotol) or fall-through into the next block: succ0 */
export const TERM_GOTO = 1;
/** conditional jump: succ0 taken, succ1 fall-through */
export const TERM_COND = 2;

/**
 * A function's blocks, one entry per block id in parallel typed arrays (a
 * compile of 16,000 instructions has 8,000 blocks: an object and two arrays
 * each were most of the CFG's time and of the garbage a compile leaves).
 * Block 0 is the entry block.
 */
export interface BlockGraph {
  /** number of blocks */
  n: number;
  /** first slot */
  start: Int32Array;
  /** one past the last slot (an lddw's second slot included) */
  end: Int32Array;
  /** slot of the last instruction (the jump or exit when there is one) */
  last: Int32Array;
  /** TERM_EXIT, TERM_GOTO or TERM_COND */
  term: Uint8Array;
  /** the goto's target or the taken side of a conditional; -1 after an exit */
  succ0: Int32Array;
  /** the fall-through side of a conditional; -1 otherwise */
  succ1: Int32Array;
  /** predecessors of block b: preds[predOff[b] .. predOff[b + 1] - 1] */
  predOff: Int32Array;
  preds: Int32Array;
}

export interface FunctionCfg extends BlockGraph {
  /** slot of the function's first instruction */
  entry: number;
  /** block ids in reverse postorder */
  rpo: Int32Array;
  /** position of each block in {@link rpo} */
  rpoNum: Int32Array;
  /** immediate dominator of each block (the entry's is itself) */
  idom: Int32Array;
  /** dominator-tree children of block b, in reverse postorder: domKids[domOff[b] .. domOff[b + 1] - 1] */
  domOff: Int32Array;
  domKids: Int32Array;
  /** every retreating edge goes to a block that dominates its source */
  reducible: boolean;
  /** target of a back edge */
  loopHeader: Uint8Array;
  /** two or more forward in-edges (Ramsey's "merge node") */
  mergeNode: Uint8Array;
}

/** A block as a list (what {@link analyzeBlocks} takes: hand-made graphs in tests). */
export interface BlockSpec {
  start: number;
  end: number;
  last: number;
  /** successors: none (exit), one (goto) or two (conditional: taken, fall-through) */
  succ: readonly number[];
}

/**
 * Slots that begin a basic block anywhere in the program: jump targets, the
 * slot after a jump or exit, and function entries. A superset per function is
 * harmless (it only splits a block in two).
 */
export function blockLeaders(insns: readonly Insn[], entries: readonly number[]): Uint8Array {
  const n = insns.length;
  const lead = new Uint8Array(n + 1);
  for (const e of entries) lead[e] = 1;
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (ins.code === op.OP_LDDW) {
      i++;
      continue;
    }
    if (isJump(ins)) {
      const t = jumpTarget(ins, i);
      if (t >= 0 && t <= n) lead[t] = 1;
      lead[i + 1] = 1;
    } else if (ins.code === op.OP_EXIT) lead[i + 1] = 1;
  }
  return lead;
}

/**
 * Block leaders from each function entry up to the next one (entries sorted):
 * the number of blocks of a function whose code lies in that range, in one
 * pass over the program whatever the number of functions.
 */
export function blockCounts(leaders: Uint8Array, entries: readonly number[], n: number): number[] {
  return entries.map((e, k) => {
    const to = k + 1 < entries.length ? entries[k + 1]! : n;
    let c = 0;
    for (let i = e; i < to; i++) c += leaders[i]!;
    return c;
  });
}

/**
 * Cuts one zeroed Int32Array into columns: a typed array of more than 64
 * bytes has a backing store of its own outside the heap (an allocation and
 * external-memory bookkeeping each), so the CFG's dozen columns share one.
 */
class Columns {
  private readonly pool: Int32Array;
  private at = 0;
  constructor(total: number) {
    this.pool = new Int32Array(total);
  }
  take(len: number): Int32Array {
    return this.pool.subarray(this.at, (this.at += len));
  }
}

const BUILD_COLUMNS = 6; // start, end, last, succ0, succ1, work

/**
 * Build the CFG of the function starting at `entry`. `idOf` is scratch of
 * one entry per slot, all -1 (and left so): the functions of one program
 * share it, so that a program of many functions is not O(slots x functions).
 * `capacity` is a guess at the number of blocks (the arrays grow past it):
 * {@link blockCounts} gives one that is exact for a function laid out in one
 * piece, which spares the copies of growing.
 */
export function buildFunctionCfg(
  insns: readonly Insn[],
  entry: number,
  leaders: Uint8Array,
  idOf = new Int32Array(insns.length).fill(-1),
  capacity = 64,
): FunctionCfg {
  const n = insns.length;
  let cap = Math.max(capacity, 4);
  let cols = new Columns(cap * BUILD_COLUMNS);
  let start = cols.take(cap);
  let end = cols.take(cap);
  let last = cols.take(cap);
  let term = new Uint8Array(cap);
  let succ0 = cols.take(cap);
  let succ1 = cols.take(cap);
  let nb = 0;
  // Blocks are numbered in discovery order; the work list holds the ids not yet scanned.
  let work = cols.take(cap);
  let nw = 0;
  const blockAt = (slot: number): number => {
    if (slot < 0 || slot >= n) throw new InstructionError(slot, `control flow leaves the program at slot ${slot}`);
    let id = idOf[slot]!;
    if (id < 0) {
      if (nb === cap) {
        cap *= 2;
        cols = new Columns(cap * BUILD_COLUMNS);
        const grow = (a: Int32Array): Int32Array => {
          const b = cols.take(cap);
          b.set(a);
          return b;
        };
        start = grow(start);
        end = grow(end);
        last = grow(last);
        succ0 = grow(succ0);
        succ1 = grow(succ1);
        work = grow(work);
        const t = new Uint8Array(cap);
        t.set(term);
        term = t;
      }
      id = nb++;
      idOf[slot] = id;
      start[id] = slot;
      work[nw++] = id;
    }
    return id;
  };
  blockAt(entry);
  while (nw > 0) {
    const b = work[--nw]!;
    let i = start[b]!;
    for (;;) {
      const ins = insns[i]!;
      const code = ins.code;
      last[b] = i;
      if (code === op.OP_EXIT) {
        end[b] = i + 1;
        term[b] = TERM_EXIT;
        succ0[b] = -1;
        succ1[b] = -1;
        break;
      }
      if (isJump(ins)) {
        end[b] = i + 1;
        const t = jumpTarget(ins, i);
        if (op.opOf(code) === op.BPF_JA) {
          term[b] = TERM_GOTO;
          const s = blockAt(t);
          succ0[b] = s;
          succ1[b] = -1;
        } else {
          term[b] = TERM_COND;
          const taken = blockAt(t);
          const fall = blockAt(i + 1);
          succ0[b] = taken;
          succ1[b] = fall;
        }
        break;
      }
      i += code === op.OP_LDDW ? 2 : 1;
      if (i >= n) throw new InstructionError(last[b]!, 'last insn is not an exit or jmp');
      if (leaders[i]) {
        end[b] = i;
        term[b] = TERM_GOTO;
        const s = blockAt(i);
        succ0[b] = s;
        succ1[b] = -1;
        break;
      }
    }
  }
  for (let k = 0; k < nb; k++) idOf[start[k]!] = -1;
  const g: BlockGraph = {
    n: nb,
    start: start.subarray(0, nb),
    end: end.subarray(0, nb),
    last: last.subarray(0, nb),
    term: term.subarray(0, nb),
    succ0: succ0.subarray(0, nb),
    succ1: succ1.subarray(0, nb),
    predOff: NONE,
    preds: NONE,
  };
  predecessors(g);
  return analyze(entry, g);
}

const NONE = new Int32Array(0);

/** Fill g.predOff and g.preds from the successors (counting sort by target: one pass each way). */
function predecessors(g: BlockGraph): void {
  const { n, succ0, succ1 } = g;
  const cols = new Columns(2 * n + 1);
  const predOff = (g.predOff = cols.take(n + 1));
  for (let k = 0; k < n; k++) {
    const a = succ0[k]!;
    const b = succ1[k]!;
    if (a >= 0) predOff[a + 1]!++;
    if (b >= 0) predOff[b + 1]!++;
  }
  for (let k = 0; k < n; k++) predOff[k + 1]! += predOff[k]!;
  const preds = new Int32Array(predOff[n]!);
  const fill = cols.take(n);
  fill.set(predOff.subarray(0, n));
  for (let k = 0; k < n; k++) {
    const a = succ0[k]!;
    const b = succ1[k]!;
    if (a >= 0) preds[fill[a]!++] = k;
    if (b >= 0) preds[fill[b]!++] = k;
  }
  g.preds = preds;
}

/** The CFG of a graph given as a block list (hand-made graphs; block 0 is the entry). */
export function analyzeBlocks(entry: number, blocks: readonly BlockSpec[]): FunctionCfg {
  const n = blocks.length;
  const g: BlockGraph = {
    n,
    start: new Int32Array(n),
    end: new Int32Array(n),
    last: new Int32Array(n),
    term: new Uint8Array(n),
    succ0: new Int32Array(n).fill(-1),
    succ1: new Int32Array(n).fill(-1),
    predOff: NONE,
    preds: NONE,
  };
  blocks.forEach((b, k) => {
    g.start[k] = b.start;
    g.end[k] = b.end;
    g.last[k] = b.last;
    g.term[k] = b.succ.length === 0 ? TERM_EXIT : b.succ.length === 1 ? TERM_GOTO : TERM_COND;
    if (b.succ.length > 0) g.succ0[k] = b.succ[0]!;
    if (b.succ.length > 1) g.succ1[k] = b.succ[1]!;
  });
  predecessors(g);
  return analyze(entry, g);
}

/** Orders, dominators, reducibility, loop headers and merge nodes of a block graph. */
function analyze(entry: number, g: BlockGraph): FunctionCfg {
  const { n: nb, succ0, succ1, predOff, preds } = g;
  const cols = new Columns(11 * nb + 1);
  const flags = new Uint8Array(4 * nb);
  // Iterative DFS for the postorder (deep programs would overflow a recursive one).
  const rpo = cols.take(nb);
  let postCount = 0;
  const seen = flags.subarray(0, nb);
  const stack = cols.take(nb);
  const next = flags.subarray(nb, 2 * nb);
  let sp = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  while (sp > 0) {
    const b = stack[sp - 1]!;
    // Visit the fall-through successor first so that, in reverse postorder,
    // taken-branch targets come after straight-line code where possible.
    const k = next[b]!;
    const s = k === 0 ? (succ1[b]! >= 0 ? succ1[b]! : succ0[b]!) : k === 1 && succ1[b]! >= 0 ? succ0[b]! : -1;
    if (s >= 0) {
      next[b] = k + 1;
      if (seen[s] === 0) {
        seen[s] = 1;
        stack[sp++] = s;
      }
    } else {
      rpo[nb - 1 - postCount++] = b;
      sp--;
    }
  }
  const rpoNum = cols.take(nb).fill(-1);
  for (let i = 0; i < nb; i++) rpoNum[rpo[i]!] = i;

  // Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm" (2001):
  // iterate idom over reverse postorder until nothing changes.
  const idom = cols.take(nb).fill(-1);
  idom[0] = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = 1; k < nb; k++) {
      const b = rpo[k]!;
      let nd = -1;
      for (let j = predOff[b]!, e = predOff[b + 1]!; j < e; j++) {
        const p = preds[j]!;
        if (idom[p] === -1) continue;
        if (nd === -1) {
          nd = p;
          continue;
        }
        let f1 = p;
        let f2 = nd;
        while (f1 !== f2) {
          while (rpoNum[f1]! > rpoNum[f2]!) f1 = idom[f1]!;
          while (rpoNum[f2]! > rpoNum[f1]!) f2 = idom[f2]!;
        }
        nd = f1;
      }
      if (idom[b] !== nd) {
        idom[b] = nd;
        changed = true;
      }
    }
  }

  // Dominator-tree children, in reverse postorder (counting sort by parent over the rpo).
  const domOff = cols.take(nb + 1);
  for (let k = 1; k < nb; k++) domOff[idom[rpo[k]!]! + 1]!++;
  for (let k = 0; k < nb; k++) domOff[k + 1]! += domOff[k]!;
  const domKids = cols.take(Math.max(nb - 1, 0));
  {
    const fill = cols.take(nb);
    fill.set(domOff.subarray(0, nb));
    for (let k = 1; k < nb; k++) {
      const b = rpo[k]!;
      domKids[fill[idom[b]!]!++] = b;
    }
  }

  // Pre/post numbers of the dominator tree make "a dominates b" O(1).
  const pre = cols.take(nb);
  const postN = cols.take(nb);
  {
    let clock = 0;
    const st = cols.take(nb);
    const pos = cols.take(nb);
    let top = 0;
    st[0] = 0;
    pre[0] = clock++;
    while (top >= 0) {
      const b = st[top]!;
      const p = domOff[b]! + pos[b]!;
      if (p < domOff[b + 1]!) {
        pos[b]!++;
        const c = domKids[p]!;
        pre[c] = clock++;
        st[++top] = c;
      } else {
        postN[b] = clock++;
        top--;
      }
    }
  }
  const dominates = (a: number, b: number): boolean => pre[a]! <= pre[b]! && postN[b]! <= postN[a]!;

  const loopHeader = flags.subarray(2 * nb, 3 * nb);
  const mergeNode = flags.subarray(3 * nb, 4 * nb);
  let reducible = true;
  for (let k = 0; k < nb; k++) {
    const b = rpo[k]!;
    let forwardIn = 0;
    for (let j = predOff[b]!, e = predOff[b + 1]!; j < e; j++) {
      const p = preds[j]!;
      if (rpoNum[p] === -1) continue;
      if (rpoNum[p]! >= rpoNum[b]!) {
        // A retreating edge. Reducible graphs have only back edges, whose
        // target dominates the source (a natural loop with a single entry).
        loopHeader[b] = 1;
        if (!dominates(b, p)) reducible = false;
      } else forwardIn++;
    }
    if (forwardIn >= 2) mergeNode[b] = 1;
  }
  return { ...g, entry, rpo, rpoNum, idom, domOff, domKids, reducible, loopHeader, mergeNode };
}
