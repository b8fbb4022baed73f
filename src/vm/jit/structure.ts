/**
 * From an unstructured CFG to WebAssembly's structured control flow.
 *
 * Reducible graphs follow Norman Ramsey, "Beyond Relooper: Recursive
 * Translation of Unstructured Control Flow to Structured Control Flow"
 * (ICFP 2022): walk the dominator tree; a node's code is wrapped in one
 * `block` per dominator-tree child that is a merge node (children with
 * higher reverse-postorder numbers outermost), and in a `loop` if it is a
 * loop header. A branch to a merge node is a `br` out of the block that the
 * merge node follows; a branch back to a loop header is a `br` to its loop;
 * any other branch goes to a node the source immediately dominates, whose
 * code is placed right there.
 *
 * Two refinements keep the output flat: a conditional whose one side is a
 * plain `br` becomes a `br_if`, and an `if` never gets an `else` because the
 * then-side always ends in a branch, so the else-side simply follows the
 * `if`. Both matter for programs that are long chains of checks (a parser
 * with an early exit per field), where nesting would otherwise grow with
 * program length.
 *
 * The translation is iterative over an explicit work list: label positions
 * are absolute nesting depths, so a `br` depth is (current depth - 1 -
 * position of the target's label), computed in O(1).
 *
 * The statements are a flat stream of fixed-size records in one Int32Array
 * ({@link Stmts}), in the order they are emitted, with an explicit `end`
 * closing each block, loop and if: a compile of 16,000 instructions made
 * about ten objects and arrays per branch diamond as a tree, all alive
 * until the function was written, which kept V8's scavenger copying them
 * (a fifth of the front end's CPU profile). The work list is processed so
 * that the stream comes out in order: a task always appends to the
 * innermost list open at its depth, and lists deeper than the next task's
 * depth are closed first (the `if` pushes its fall-through side before its
 * then-side, so that the then-side is written first).
 *
 * Irreducible graphs (possible in eBPF: the kernel verifier explores paths,
 * it does not require reducibility) go through a dispatch loop: a `loop`
 * around one `block` per basic block and a `br_table` on a label local;
 * a jump sets the label and branches to the loop head, a fall-through to
 * the next block in order costs nothing.
 */
import { TERM_EXIT, TERM_GOTO, type FunctionCfg } from './cfg.js';

// Statement kinds; a record is STRIDE words: kind, block, negate, depth (or value, or count).
/** opens a `block` (closed by an {@link S_END}) */
export const S_BLOCK = 0;
/** opens a `loop` */
export const S_LOOP = 1;
/** if block b's condition holds (negated: does not hold), run the statements up to the matching end (they never fall through) */
export const S_IF = 2;
/** closes the innermost open block, loop or if */
export const S_END = 3;
/** the straight-line instructions of basic block b (all but its jump/exit) */
export const S_CODE = 4;
/** branch `depth` labels out if b's condition holds (negated: does not hold) */
export const S_BR_IF = 5;
/** branch `depth` labels out */
export const S_BR = 6;
/** b ends in `exit`: return r0 */
export const S_EXIT = 7;
/** dispatch loop: label := value (word 3) */
export const S_SET_LABEL = 8;
/** dispatch loop: br_table 0, 1, .., count - 1 over the label local, default count - 1 (count in word 3) */
export const S_BR_TABLE = 9;
/** words per record */
export const STRIDE = 4;

/** A statement stream: records of {@link STRIDE} words in `w[0, n)`. */
export class Stmts {
  w: Int32Array;
  n = 0;
  constructor(records: number) {
    this.w = new Int32Array(Math.max(records, 4) * STRIDE);
  }
  push(kind: number, b: number, negate: number, depth: number): void {
    if (this.n + STRIDE > this.w.length) {
      const w = new Int32Array(this.w.length * 2);
      w.set(this.w);
      this.w = w;
    }
    const w = this.w;
    const at = this.n;
    w[at] = kind;
    w[at + 1] = b;
    w[at + 2] = negate;
    w[at + 3] = depth;
    this.n = at + STRIDE;
  }
}

/** The position just past the end that closes the block, loop or if opened at p. */
export function stmtEnd(s: Stmts, p: number): number {
  const w = s.w;
  let level = 0;
  for (;;) {
    const k = w[p]!;
    p += STRIDE;
    if (k === S_END) {
      if (--level === 0) return p;
    } else if (k === S_BLOCK || k === S_LOOP || k === S_IF) level++;
  }
}

export interface Structured {
  body: Stmts;
  /** the dispatch loop was used (the graph is irreducible) */
  dispatch: boolean;
}

export function structure(cfg: FunctionCfg): Structured {
  return cfg.reducible ? { body: relooper(cfg), dispatch: false } : { body: dispatchLoop(cfg), dispatch: true };
}

function relooper(cfg: FunctionCfg): Stmts {
  const { rpoNum, domOff, domKids, loopHeader, mergeNode, term, succ0, succ1 } = cfg;
  const nb = cfg.n;
  /** nesting position of the `loop` headed by a node */
  const loopPos = new Int32Array(nb).fill(-1);
  /** nesting position of the `block` a merge node follows */
  const followPos = new Int32Array(nb).fill(-1);
  // At most seven records per node: a loop and its end, a block and its end per merge child, code, two for the jump.
  const out = new Stmts(nb * 7 + 1);
  // The work list: node and the nesting depth of the list its code goes to. Every node is pushed once.
  const taskX = new Int32Array(nb + 1);
  const taskDepth = new Int32Array(nb + 1);
  let tasks = 1;
  /** lists open in the stream */
  let open = 0;

  /** br depth from x (at nesting `d`) to y, or -1 when x immediately dominates y (y's code goes here) */
  const brDepth = (x: number, y: number, d: number): number => {
    if (rpoNum[y]! <= rpoNum[x]!) return d - 1 - loopPos[y]!; // back edge
    if (mergeNode[y]) return d - 1 - followPos[y]!;
    return -1;
  };
  const push = (x: number, depth: number): void => {
    taskX[tasks] = x;
    taskDepth[tasks++] = depth;
  };
  while (tasks) {
    const x = taskX[--tasks]!;
    let depth = taskDepth[tasks]!;
    // The lists this task does not append to are complete: close them.
    for (; open > depth; open--) out.push(S_END, 0, 0, 0);
    // doTree(x): a loop header's code sits in a loop labelled by it.
    if (loopHeader[x]) {
      out.push(S_LOOP, 0, 0, 0);
      loopPos[x] = depth;
      depth++;
    }
    // nodeWithin(x, merge children): the highest-numbered merge child's
    // block is outermost, so its code comes last.
    // Dominator-tree children are in reverse postorder already: walk them backwards.
    for (let k = domOff[x + 1]! - 1; k >= domOff[x]!; k--) {
      const y = domKids[k]!;
      if (!mergeNode[y]) continue;
      out.push(S_BLOCK, 0, 0, 0);
      followPos[y] = depth;
      // y's code follows the block, at the block's own depth.
      push(y, depth);
      depth++;
    }
    open = depth;
    const t = term[x]!;
    out.push(S_CODE, x, 0, 0);
    if (t === TERM_EXIT) {
      out.push(S_EXIT, x, 0, 0);
    } else if (t === TERM_GOTO) {
      const y = succ0[x]!;
      const d = brDepth(x, y, depth);
      if (d >= 0) out.push(S_BR, 0, 0, d);
      else push(y, depth);
    } else {
      const taken = succ0[x]!;
      const fall = succ1[x]!;
      const dt = brDepth(x, taken, depth);
      const df = brDepth(x, fall, depth);
      if (taken === fall) {
        // Both edges agree: the condition does not matter.
        if (dt >= 0) out.push(S_BR, 0, 0, dt);
        else push(taken, depth);
      } else if (dt >= 0) {
        out.push(S_BR_IF, x, 0, dt);
        if (df >= 0) out.push(S_BR, 0, 0, df);
        else push(fall, depth);
      } else if (df >= 0) {
        out.push(S_BR_IF, x, 1, df);
        push(taken, depth);
      } else {
        // Both successors are immediately dominated by x: the taken side
        // inside an `if`, the fall-through side after it (pushed first: written after).
        out.push(S_IF, x, 0, 0);
        push(fall, depth);
        push(taken, depth + 1);
        open = depth + 1;
      }
    }
  }
  for (; open > 0; open--) out.push(S_END, 0, 0, 0);
  return out;
}

function dispatchLoop(cfg: FunctionCfg): Stmts {
  const { rpo, rpoNum, term, succ0, succ1 } = cfg;
  const n = rpo.length;
  // Order blocks by reverse postorder so that fall-through edges mostly go to the next block.
  // Structure: loop { block_{n-1} { ... block_0 { br_table } code_0 } ... code_{n-1} }.
  // code_i sits inside the loop and blocks i+1..n-1, at depth n - i.
  const out = new Stmts(n * 10 + 3);
  out.push(S_LOOP, 0, 0, 0);
  for (let i = 0; i < n; i++) out.push(S_BLOCK, 0, 0, 0);
  out.push(S_BR_TABLE, 0, 0, n);
  for (let i = 0; i < n; i++) {
    out.push(S_END, 0, 0, 0); // block_i
    const x = rpo[i]!;
    const t = term[x]!;
    const depth = n - i; // open labels around code_i: loop + blocks i+1..n-1
    const jump = (y: number, d: number): void => {
      const j = rpoNum[y]!;
      if (j === i + 1 && d === depth) return; // falls into the next block
      out.push(S_SET_LABEL, 0, 0, j);
      out.push(S_BR, 0, 0, d - 1);
    };
    out.push(S_CODE, x, 0, 0);
    if (t === TERM_EXIT) out.push(S_EXIT, x, 0, 0);
    else if (t === TERM_GOTO) jump(succ0[x]!, depth);
    else {
      out.push(S_IF, x, 0, 0);
      jump(succ0[x]!, depth + 1); // never a fall-through: the if adds a level
      out.push(S_END, 0, 0, 0);
      jump(succ1[x]!, depth);
    }
  }
  out.push(S_END, 0, 0, 0); // the loop
  return out;
}
