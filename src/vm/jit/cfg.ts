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
import { isJump, jumpTarget, slotsOf } from '../../isa/control-flow.js';
import { InstructionError } from '../../errors.js';

export type Terminator =
  /** `exit`: return r0 */
  | 'exit'
  /** unconditional jump (ja/gotol) or fall-through into the next block */
  | 'goto'
  /** conditional jump: succ[0] taken, succ[1] fall-through */
  | 'cond';

export interface BasicBlock {
  id: number;
  /** first slot */
  start: number;
  /** one past the last slot (an lddw's second slot included) */
  end: number;
  /** slot of the last instruction (the jump or exit when there is one) */
  last: number;
  term: Terminator;
  succ: number[];
  preds: number[];
}

export interface FunctionCfg {
  /** slot of the function's first instruction */
  entry: number;
  /** blocks[0] is the entry block; ids are indices into this array */
  blocks: BasicBlock[];
  /** block ids in reverse postorder */
  rpo: number[];
  /** position of each block in {@link rpo} */
  rpoNum: Int32Array;
  /** immediate dominator of each block (the entry's is itself) */
  idom: Int32Array;
  /** dominator-tree children of each block, in reverse postorder */
  domChildren: number[][];
  /** every retreating edge goes to a block that dominates its source */
  reducible: boolean;
  /** target of a back edge */
  loopHeader: Uint8Array;
  /** two or more forward in-edges (Ramsey's "merge node") */
  mergeNode: Uint8Array;
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

const NO_SUCC: number[] = [];
const NO_PREDS: number[] = [];

/**
 * Build the CFG of the function starting at `entry`. `idOf` is scratch of
 * one entry per slot, all -1 (and left so): the functions of one program
 * share it, so that a program of many functions is not O(slots x functions).
 */
export function buildFunctionCfg(insns: readonly Insn[], entry: number, leaders: Uint8Array, idOf = new Int32Array(insns.length).fill(-1)): FunctionCfg {
  const n = insns.length;
  const blocks: BasicBlock[] = [];
  const work: number[] = [];
  const blockAt = (start: number): number => {
    if (start < 0 || start >= n) throw new InstructionError(start, `control flow leaves the program at slot ${start}`);
    let id = idOf[start]!;
    if (id < 0) {
      id = blocks.length;
      idOf[start] = id;
      blocks.push({ id, start, end: start, last: start, term: 'goto', succ: NO_SUCC, preds: NO_PREDS });
      work.push(id);
    }
    return id;
  };
  blockAt(entry);
  while (work.length) {
    const b = blocks[work.pop()!]!;
    let i = b.start;
    for (;;) {
      const ins = insns[i]!;
      const width = slotsOf(ins);
      b.last = i;
      if (ins.code === op.OP_EXIT) {
        b.end = i + 1;
        b.term = 'exit';
        break;
      }
      if (isJump(ins)) {
        b.end = i + 1;
        const t = jumpTarget(ins, i);
        if (op.opOf(ins.code) === op.BPF_JA) {
          b.term = 'goto';
          b.succ = [blockAt(t)];
        } else {
          b.term = 'cond';
          const taken = blockAt(t);
          b.succ = [taken, blockAt(i + 1)];
        }
        break;
      }
      i += width;
      if (i >= n) throw new InstructionError(b.last, 'last insn is not an exit or jmp');
      if (leaders[i]) {
        b.end = i;
        b.term = 'goto';
        b.succ = [blockAt(i)];
        break;
      }
    }
  }
  // Predecessor lists of their exact length: an empty array grown by push
  // reserves 17 elements, most of a block's memory (this runs once per
  // compile, mostly in unoptimised code, so indexed loops rather than for-of).
  const nb = blocks.length;
  const inDegree = new Int32Array(nb);
  for (let k = 0; k < nb; k++) {
    const b = blocks[k]!;
    idOf[b.start] = -1;
    const succ = b.succ;
    for (let j = 0; j < succ.length; j++) inDegree[succ[j]!]!++;
  }
  for (let k = 0; k < nb; k++) if (inDegree[k]! > 0) blocks[k]!.preds = new Array<number>(inDegree[k]!);
  for (let k = 0; k < nb; k++) {
    const succ = blocks[k]!.succ;
    for (let j = 0; j < succ.length; j++) {
      const t = succ[j]!;
      blocks[t]!.preds[--inDegree[t]!] = k;
    }
  }
  return analyze(entry, blocks);
}

const NO_CHILDREN: number[] = [];

/** Orders, dominators, reducibility, loop headers and merge nodes of a block graph. */
export function analyze(entry: number, blocks: BasicBlock[]): FunctionCfg {
  const nb = blocks.length;
  // Iterative DFS for the postorder (deep programs would overflow a recursive one).
  const rpo: number[] = new Array(nb);
  let postCount = 0;
  const seen = new Uint8Array(nb);
  const stack = new Int32Array(nb);
  const next = new Uint8Array(nb);
  let sp = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  while (sp > 0) {
    const b = stack[sp - 1]!;
    const succ = blocks[b]!.succ;
    // Visit the fall-through successor first so that, in reverse postorder,
    // taken-branch targets come after straight-line code where possible.
    const k = next[b]!;
    if (k < succ.length) {
      next[b] = k + 1;
      const s = succ[succ.length - 1 - k]!;
      if (seen[s] === 0) {
        seen[s] = 1;
        stack[sp++] = s;
      }
    } else {
      rpo[nb - 1 - postCount++] = b;
      sp--;
    }
  }
  const rpoNum = new Int32Array(nb).fill(-1);
  for (let i = 0; i < nb; i++) rpoNum[rpo[i]!] = i;

  // Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm" (2001):
  // iterate idom over reverse postorder until nothing changes.
  const idom = new Int32Array(nb).fill(-1);
  idom[0] = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = 1; k < rpo.length; k++) {
      const b = rpo[k]!;
      let nd = -1;
      const preds = blocks[b]!.preds;
      for (let j = 0; j < preds.length; j++) {
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

  const domChildren: number[][] = new Array(nb).fill(NO_CHILDREN);
  for (let k = 1; k < nb; k++) {
    const b = rpo[k]!;
    const p = idom[b]!;
    if (domChildren[p] === NO_CHILDREN) domChildren[p] = [b];
    else domChildren[p]!.push(b);
  }

  // Pre/post numbers of the dominator tree make "a dominates b" O(1).
  const pre = new Int32Array(nb);
  const postN = new Int32Array(nb);
  {
    let clock = 0;
    const st = new Int32Array(nb);
    const pos = new Int32Array(nb);
    let top = 0;
    st[0] = 0;
    pre[0] = clock++;
    while (top >= 0) {
      const b = st[top]!;
      const kids = domChildren[b]!;
      if (pos[b]! < kids.length) {
        const c = kids[pos[b]!++]!;
        pre[c] = clock++;
        st[++top] = c;
      } else {
        postN[b] = clock++;
        top--;
      }
    }
  }
  const dominates = (a: number, b: number): boolean => pre[a]! <= pre[b]! && postN[b]! <= postN[a]!;

  const loopHeader = new Uint8Array(nb);
  const mergeNode = new Uint8Array(nb);
  let reducible = true;
  for (let k = 0; k < nb; k++) {
    const b = rpo[k]!;
    let forwardIn = 0;
    const preds = blocks[b]!.preds;
    for (let j = 0; j < preds.length; j++) {
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
  return { entry, blocks, rpo, rpoNum, idom, domChildren, reducible, loopHeader, mergeNode };
}
