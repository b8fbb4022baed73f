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
 * A region is a run of consecutive statements of one statement list, which
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
 * blocks and loops) and the calls remain in the function itself.
 */
import type { Stmt } from './structure.js';

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
  /** the statements, compiled at nesting `depth` of the original function */
  body: Stmt[];
  /** number of labels open around the run in the original function */
  depth: number;
  /** absolute nesting positions (< depth) of the labels its branches escape to, innermost first */
  escapes: number[];
  /** its instruction count (what `cost` summed) */
  size: number;
}

/**
 * Split `root` in place (replacing runs by `{ k: 'region', r }`) when the
 * function's `total` cost is larger than `limits.above`; `cost(b)` is basic
 * block b's instruction count. Returns the regions (none for a small function).
 *
 * One post-order walk without recursion: a list is finished after every
 * construct in it, so its items' sizes are known then. A list is split when
 * its construct is larger than `target` (then so is every construct around
 * it), which is exactly when a top-down split would have descended into it.
 * (Sizes live in per-list arrays: a Map keyed by statement costs more than
 * the whole walk.)
 */
export function outline(root: Stmt[], total: number, cost: (b: number) => number, limits: OutlineLimits = DEFAULT_OUTLINE): Region[] {
  if (total <= limits.above) return [];
  const regions: Region[] = [];
  // One frame per open list (frame t's list is at nesting depth t): the list, the next index, its items' sizes.
  const lists: Stmt[][] = [root];
  const next: number[] = [0];
  const itemSizes: number[][] = [[]];
  while (lists.length) {
    const t = lists.length - 1;
    const list = lists[t]!;
    const i = next[t]!;
    if (i < list.length) {
      next[t] = i + 1;
      const s = list[i]!;
      const k = s.k;
      if (k === 'block' || k === 'loop' || k === 'if') {
        lists.push(k === 'if' ? s.then : s.body);
        next.push(0);
        itemSizes.push([]);
      } else itemSizes[t]!.push(k === 'code' ? cost(s.b) : k === 'brIf' || k === 'exit' ? 1 : 0);
      continue;
    }
    // The list is finished: its construct's size is the sum (an `if` adds its condition).
    const sizes = itemSizes[t]!;
    let n = 0;
    for (let j = 0; j < sizes.length; j++) n += sizes[j]!;
    lists.pop();
    next.pop();
    itemSizes.pop();
    if (t > 0) {
      const parent = lists[t - 1]!;
      if (parent[next[t - 1]! - 1]!.k === 'if') n++;
      itemSizes[t - 1]!.push(n);
    }
    if (t === 0 || n > limits.target) split(list, sizes, t, limits, regions);
  }
  return regions;
}

/** Group a list's statements into regions of about `target`; constructs larger than that stay (their lists are split). */
function split(list: Stmt[], sizes: readonly number[], depth: number, limits: OutlineLimits, regions: Region[]): void {
  const out: Stmt[] = [];
  let run: Stmt[] = [];
  let runSize = 0;
  const flush = (): void => {
    if (run.length && runSize >= limits.min) {
      out.push({ k: 'region', r: regions.length });
      regions.push({ body: run, depth, escapes: escapesOf(run, depth), size: runSize });
    } else out.push(...run);
    run = [];
    runSize = 0;
  };
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    const n = sizes[i]!;
    if (n > limits.target && (s.k === 'block' || s.k === 'loop' || s.k === 'if')) {
      flush();
      out.push(s);
      continue;
    }
    if (runSize + n > limits.target) flush();
    run.push(s);
    runSize += n;
  }
  flush();
  list.length = 0;
  list.push(...out);
}

/** Labels outside a run (positions < depth) that its branches target, innermost first. */
function escapesOf(run: readonly Stmt[], depth: number): number[] {
  const found = new Set<number>();
  const todo: Array<{ list: readonly Stmt[]; level: number }> = [{ list: run, level: 0 }];
  while (todo.length) {
    const { list, level } = todo.pop()!;
    for (const s of list) {
      if (s.k === 'br' || s.k === 'brIf') {
        const p = depth + level - 1 - s.depth;
        if (p < depth) found.add(p);
      } else if (s.k === 'block' || s.k === 'loop') todo.push({ list: s.body, level: level + 1 });
      else if (s.k === 'if') todo.push({ list: s.then, level: level + 1 });
    }
  }
  return [...found].sort((a, b) => b - a);
}
