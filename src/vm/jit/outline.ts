/**
 * Outlining: a large function's structured body is cut into regions, each
 * compiled as a WebAssembly function of its own, so that no WebAssembly
 * function is much larger than about a thousand eBPF instructions
 * ({@link DEFAULT_OUTLINE}).
 *
 * Why: V8 compiles a WebAssembly function on its first call (Liftoff, one
 * pass), and that pass's cost per instruction grows with the function's
 * size. Measured on Node 20 (bench/compile.bench.ts's branch diamonds, CPU
 * time of the first call, best of 9 in one process): 2,000 instructions in
 * one function 0.40 ms, 8,000 1.45 ms, 12,000 5.3 ms, 16,000 6.5 ms; the
 * same 16,000 in 4, 8 or 16 functions 2.4, 2.3, 2.2 ms. Liftoff's working
 * memory is about 37 bytes per body byte, held until the whole function is
 * done, so a large function works out of memory that is no longer in the
 * caches (and on this machine's paravirtualised kernel, fresh pages cost a
 * trap each); small functions reuse the same hot memory.
 *
 * A region is a run of consecutive statements of one statement list (a
 * range of the flat statement stream of structure.ts), which
 * is always single-entry in structured control flow: no branch from outside
 * the run can target a label opened inside it. Control leaves it by falling
 * off its end, by returning (an `exit`, or a tail call or LD_ABS unwinding),
 * or by a branch to a label opened outside the run (an "escape": a merge
 * block that encloses it, or a loop it is inside). The region function
 * reports which, with a status code, and the caller does the same after the
 * call. Registers travel as parameters and results (multi-value), so the
 * region's code is compiled exactly as it would be inline.
 *
 * The split is top-down: a list's statements are grouped greedily into runs
 * of about `target` instructions; a statement larger than that (a block
 * or loop with a long body) stays in place and its own body is split. So a
 * region never contains another, and only the function's skeleton (its big
 * blocks and loops) and the calls remain in the function itself (the
 * function compiler calls a region where its range starts and resumes
 * after it).
 */
import { S_BLOCK, S_BR, S_BR_IF, S_CODE, S_END, S_EXIT, S_IF, S_LOOP, STRIDE, type Stmts } from './structure.js';

/** When to split: the defaults suit V8; tests make them small to outline every program. */
export interface OutlineLimits {
  /** functions with more eBPF instruction slots than this are split */
  above: number;
  /** about how many instruction slots one region holds */
  target: number;
  /** shorter runs between two large statements stay inline (a call costs more than they do) */
  min: number;
}
export const DEFAULT_OUTLINE: OutlineLimits = { above: 2048, target: 1024, min: 64 };

/** Status a region function returns: 0 falls through, 1 returns r0 from the function, 2 + j escapes to escapes[j]. */
export const REGION_FALL = 0;
export const REGION_RETURN = 1;
export const REGION_ESCAPE = 2;

export interface Region {
  /** its statements: the stream's records in [from, to) (word positions) */
  from: number;
  to: number;
  /** number of labels open around the run in the original function */
  depth: number;
  /** absolute nesting positions (< depth) of the labels its branches escape to, innermost first */
  escapes: number[];
  /** its instruction count (what `cost` summed) */
  size: number;
}

/**
 * Split the statement stream `s` into regions when the function's `total`
 * cost is larger than `limits.above`; `cost(b)` is basic block b's
 * instruction count. Returns the regions (none for a small function), in
 * the order their lists end (inner lists first).
 *
 * One pass over the stream: a list is finished at its `end`, after every
 * construct in it, so its items' sizes are known then. A list is split when
 * its construct is larger than `target` (then so is every construct around
 * it), which is exactly when a top-down split would have descended into it.
 * The open lists' items (start position and size) sit on one shared stack.
 */
export function outline(s: Stmts, total: number, cost: (b: number) => number, limits: OutlineLimits = DEFAULT_OUTLINE): Region[] {
  if (total <= limits.above) return [];
  const regions: Region[] = [];
  const w = s.w;
  // Items of the open lists: start position and size; list t's items from base[t].
  const itemStart: number[] = [];
  const itemSize: number[] = [];
  /** per open list: its first item, and the item that is its construct (in the parent list; -1 for the root) */
  const base: number[] = [0];
  const owner: number[] = [-1];
  for (let p = 0; p <= s.n; p += STRIDE) {
    const k = p < s.n ? w[p]! : S_END; // the stream's end closes the root list
    if (k === S_BLOCK || k === S_LOOP || k === S_IF) {
      owner.push(itemStart.length);
      itemStart.push(p);
      itemSize.push(0);
      base.push(itemStart.length);
      continue;
    }
    if (k !== S_END) {
      itemStart.push(p);
      itemSize.push(k === S_CODE ? cost(w[p + 1]!) : k === S_BR_IF || k === S_EXIT ? 1 : 0);
      continue;
    }
    // The list is finished: its construct's size is the sum (an `if` adds its condition).
    const t = base.length - 1;
    const from = base[t]!;
    let n = 0;
    for (let j = from; j < itemStart.length; j++) n += itemSize[j]!;
    const o = owner.pop()!;
    if (o >= 0 && w[itemStart[o]!] === S_IF) n++;
    if (t === 0 || n > limits.target) split(s, itemStart, itemSize, from, p, t, limits, regions);
    itemStart.length = from;
    itemSize.length = from;
    base.pop();
    if (o >= 0) itemSize[o] = n;
  }
  return regions;
}

/**
 * Group a list's items [from, starts.length) (the list ends at stream position
 * `end`) into regions of about `target`; constructs larger than that stay
 * (their lists are split).
 */
function split(s: Stmts, starts: readonly number[], sizes: readonly number[], from: number, end: number, depth: number, limits: OutlineLimits, regions: Region[]): void {
  const w = s.w;
  let run = -1; // first item of the run, if any
  let runSize = 0;
  /** the run ends before item upTo */
  const flush = (upTo: number): void => {
    if (run >= 0 && runSize >= limits.min) {
      const a = starts[run]!;
      const b = upTo < starts.length ? starts[upTo]! : end;
      regions.push({ from: a, to: b, depth, escapes: escapesOf(s, a, b, depth), size: runSize });
    }
    run = -1;
    runSize = 0;
  };
  for (let i = from; i < starts.length; i++) {
    const n = sizes[i]!;
    const k = w[starts[i]!]!;
    if (n > limits.target && (k === S_BLOCK || k === S_LOOP || k === S_IF)) {
      flush(i);
      continue;
    }
    if (runSize + n > limits.target) flush(i);
    if (run < 0) run = i;
    runSize += n;
  }
  flush(starts.length);
}

/** Labels outside the run [from, to) at nesting `depth` (positions < depth) that its branches target, innermost first. */
function escapesOf(s: Stmts, from: number, to: number, depth: number): number[] {
  const w = s.w;
  const found: number[] = [];
  let level = 0;
  for (let p = from; p < to; p += STRIDE) {
    const k = w[p]!;
    if (k === S_BR || k === S_BR_IF) {
      const q = depth + level - 1 - w[p + 3]!;
      if (q < depth && !found.includes(q)) found.push(q);
    } else if (k === S_BLOCK || k === S_LOOP || k === S_IF) level++;
    else if (k === S_END) level--;
  }
  return found.sort((a, b) => b - a);
}
