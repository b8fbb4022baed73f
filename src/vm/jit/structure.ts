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
 * Irreducible graphs (possible in eBPF: the kernel verifier explores paths,
 * it does not require reducibility) go through a dispatch loop: a `loop`
 * around one `block` per basic block and a `br_table` on a label local;
 * a jump sets the label and branches to the loop head, a fall-through to
 * the next block in order costs nothing.
 */
import { TERM_EXIT, TERM_GOTO, type FunctionCfg } from './cfg.js';

export type Stmt =
  | { k: 'block'; body: Stmt[] }
  | { k: 'loop'; body: Stmt[] }
  /** the straight-line instructions of basic block `b` (all but its jump/exit) */
  | { k: 'code'; b: number }
  /** if b's condition holds (negated: does not hold), run `then` (which never falls through) */
  | { k: 'if'; b: number; negate: boolean; then: Stmt[] }
  /** branch `depth` labels out if b's condition holds (negated: does not hold) */
  | { k: 'brIf'; b: number; negate: boolean; depth: number }
  | { k: 'br'; depth: number }
  /** b ends in `exit`: return r0 */
  | { k: 'exit'; b: number }
  /** dispatch loop: label := value */
  | { k: 'setLabel'; value: number }
  /** dispatch loop: br_table over the label local */
  | { k: 'brTable'; depths: number[] }
  /** call outlined region r (outline.ts), then act on how it ended */
  | { k: 'region'; r: number };

export interface Structured {
  body: Stmt[];
  /** the dispatch loop was used (the graph is irreducible) */
  dispatch: boolean;
}

export function structure(cfg: FunctionCfg): Structured {
  return cfg.reducible ? { body: relooper(cfg), dispatch: false } : { body: dispatchLoop(cfg), dispatch: true };
}

function relooper(cfg: FunctionCfg): Stmt[] {
  const { rpoNum, domOff, domKids, loopHeader, mergeNode, term, succ0, succ1 } = cfg;
  const nb = cfg.n;
  /** nesting position of the `loop` headed by a node */
  const loopPos = new Int32Array(nb).fill(-1);
  /** nesting position of the `block` a merge node follows */
  const followPos = new Int32Array(nb).fill(-1);
  const root: Stmt[] = [];
  // The work list as three stacks (node, nesting depth, list to append to): no object per task.
  const taskX: number[] = [0];
  const taskDepth: number[] = [0];
  const taskOut: Stmt[][] = [root];
  const push = (x: number, depth: number, out: Stmt[]): void => {
    taskX.push(x);
    taskDepth.push(depth);
    taskOut.push(out);
  };

  // Statements are never changed once made: one `br` per depth serves every
  // branch of that depth (two of the ten or so statements of a branch diamond).
  const brs: Stmt[] = [];
  const br = (depth: number): Stmt => (brs[depth] ??= { k: 'br', depth });

  /** br depth from x (at nesting `d`) to y, or undefined when x immediately dominates y (y's code goes here) */
  const brDepth = (x: number, y: number, d: number): number | undefined => {
    if (rpoNum[y]! <= rpoNum[x]!) return d - 1 - loopPos[y]!; // back edge
    if (mergeNode[y]) return d - 1 - followPos[y]!;
    return undefined;
  };
  while (taskX.length) {
    const x = taskX.pop()!;
    let depth = taskDepth.pop()!;
    let out = taskOut.pop()!;
    // doTree(x): a loop header's code sits in a loop labelled by it.
    if (loopHeader[x]) {
      const body: Stmt[] = [];
      out.push({ k: 'loop', body });
      loopPos[x] = depth;
      out = body;
      depth++;
    }
    // nodeWithin(x, merge children): the highest-numbered merge child's
    // block is outermost, so its code comes last.
    // Dominator-tree children are in reverse postorder already: walk them backwards.
    for (let k = domOff[x + 1]! - 1; k >= domOff[x]!; k--) {
      const y = domKids[k]!;
      if (!mergeNode[y]) continue;
      const inner: Stmt[] = [];
      out.push({ k: 'block', body: inner });
      followPos[y] = depth;
      // y's code follows the block, at the block's own depth.
      push(y, depth, out);
      out = inner;
      depth++;
    }
    const t = term[x]!;
    out.push({ k: 'code', b: x });
    if (t === TERM_EXIT) {
      out.push({ k: 'exit', b: x });
    } else if (t === TERM_GOTO) {
      const y = succ0[x]!;
      const d = brDepth(x, y, depth);
      if (d !== undefined) out.push(br(d));
      else push(y, depth, out);
    } else {
      const taken = succ0[x]!;
      const fall = succ1[x]!;
      const dt = brDepth(x, taken, depth);
      const df = brDepth(x, fall, depth);
      if (taken === fall) {
        // Both edges agree: the condition does not matter.
        if (dt !== undefined) out.push(br(dt));
        else push(taken, depth, out);
      } else if (dt !== undefined) {
        out.push({ k: 'brIf', b: x, negate: false, depth: dt });
        if (df !== undefined) out.push(br(df));
        else push(fall, depth, out);
      } else if (df !== undefined) {
        out.push({ k: 'brIf', b: x, negate: true, depth: df });
        push(taken, depth, out);
      } else {
        // Both successors are immediately dominated by x: the taken side
        // inside an `if`, the fall-through side after it.
        const then: Stmt[] = [];
        out.push({ k: 'if', b: x, negate: false, then });
        push(taken, depth + 1, then);
        push(fall, depth, out);
      }
    }
  }
  return root;
}

function dispatchLoop(cfg: FunctionCfg): Stmt[] {
  const { rpo, rpoNum, term, succ0, succ1 } = cfg;
  const n = rpo.length;
  // Order blocks by reverse postorder so that fall-through edges mostly go to the next block.
  // Structure: loop { block_{n-1} { ... block_0 { br_table } code_0 } ... code_{n-1} }.
  // code_i sits inside the loop and blocks i+1..n-1, at depth n - i.
  let inner: Stmt[] = [{ k: 'brTable', depths: Array.from({ length: n }, (_, i) => i) }];
  for (let i = 0; i < n; i++) {
    const seq: Stmt[] = [{ k: 'block', body: inner }];
    const x = rpo[i]!;
    const t = term[x]!;
    const depth = n - i; // open labels around code_i: loop + blocks i+1..n-1
    const jump = (y: number, d: number, out: Stmt[]): void => {
      const j = rpoNum[y]!;
      if (j === i + 1 && d === depth) return; // falls into the next block
      out.push({ k: 'setLabel', value: j }, { k: 'br', depth: d - 1 });
    };
    seq.push({ k: 'code', b: x });
    if (t === TERM_EXIT) seq.push({ k: 'exit', b: x });
    else if (t === TERM_GOTO) jump(succ0[x]!, depth, seq);
    else {
      const then: Stmt[] = [];
      seq.push({ k: 'if', b: x, negate: false, then });
      jump(succ0[x]!, depth + 1, then); // never a fall-through: the if adds a level
      jump(succ1[x]!, depth, seq);
    }
    inner = seq;
  }
  return [{ k: 'loop', body: inner }];
}
