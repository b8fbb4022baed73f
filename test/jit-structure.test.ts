/**
 * The control-flow analyses behind the JIT's structuring, checked against
 * slow textbook definitions on random graphs: dominators (iterative set
 * intersection) and reducibility (Hecht and Ullman's T1/T2 reduction); and
 * the structured output, checked by executing it as a walk over the graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeBlocks, TERM_COND, TERM_EXIT, type FunctionCfg } from '../src/vm/jit/cfg.js';

/** A hand-made block: its id and successors (start = end - 1 = last = id), with its predecessors for the naive checks. */
interface BasicBlock {
  id: number;
  start: number;
  end: number;
  last: number;
  succ: number[];
  preds: number[];
}
import { S_BLOCK, S_BR, S_BR_IF, S_BR_TABLE, S_CODE, S_END, S_EXIT, S_IF, S_LOOP, S_SET_LABEL, STRIDE, stmtEnd, structure, type Stmts } from '../src/vm/jit/structure.js';
import { outline, type Region } from '../src/vm/jit/outline.js';

function rng(seed: number): () => number {
  let s = (Math.imul(seed, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  for (let i = 0; i < 4; i++) next(); // small seeds start with small outputs
  return next;
}

/** A random graph of blocks reachable from 0 (unreachable ones dropped), each with 0..2 successors. */
function randomGraph(seed: number): BasicBlock[] {
  const rand = rng(seed);
  const n = 2 + Math.floor(rand() * 14);
  const succ: number[][] = [];
  for (let b = 0; b < n; b++) {
    const k = rand() < 0.15 ? 0 : rand() < 0.4 ? 1 : 2;
    const s: number[] = [];
    for (let i = 0; i < k; i++) s.push(Math.floor(rand() * n));
    if (k === 2 && s[0] === s[1]) s.pop();
    succ.push(s);
  }
  // Keep what 0 reaches, renumbered.
  const id = new Map<number, number>();
  const order: number[] = [];
  const work = [0];
  id.set(0, 0);
  while (work.length) {
    const b = work.pop()!;
    order.push(b);
    for (const s of succ[b]!)
      if (!id.has(s)) {
        id.set(s, id.size);
        work.push(s);
      }
  }
  const blocks: BasicBlock[] = [];
  for (const [old, nid] of [...id].sort((a, b) => a[1] - b[1])) {
    const s = succ[old]!.map((x) => id.get(x)!);
    blocks[nid] = { id: nid, start: nid, end: nid + 1, last: nid, succ: s, preds: [] };
  }
  for (const b of blocks) for (const s of b.succ) blocks[s]!.preds.push(b.id);
  return blocks;
}

function naiveDominators(blocks: BasicBlock[]): Set<number>[] {
  const n = blocks.length;
  const all = new Set(blocks.map((b) => b.id));
  const dom = blocks.map((b) => (b.id === 0 ? new Set([0]) : new Set(all)));
  let changed = true;
  while (changed) {
    changed = false;
    for (const b of blocks) {
      if (b.id === 0) continue;
      let inter: Set<number> | undefined;
      for (const p of b.preds) inter = inter ? new Set([...inter].filter((x) => dom[p]!.has(x))) : new Set(dom[p]);
      const next = new Set(inter ?? []);
      next.add(b.id);
      if (next.size !== dom[b.id]!.size || [...next].some((x) => !dom[b.id]!.has(x))) {
        dom[b.id] = next;
        changed = true;
      }
    }
  }
  void n;
  return dom;
}

/** T1 (drop self loops) and T2 (fold a node with one predecessor into it) until nothing changes. */
function naiveReducible(blocks: BasicBlock[]): boolean {
  const succ = new Map<number, Set<number>>(blocks.map((b) => [b.id, new Set(b.succ)]));
  for (;;) {
    let changed = false;
    for (const [v, s] of succ) s.delete(v); // T1
    for (const v of [...succ.keys()]) {
      if (v === 0) continue;
      const preds = [...succ].filter(([u, s]) => u !== v && s.has(v)).map(([u]) => u);
      if (preds.length === 1) {
        const u = preds[0]!;
        const su = succ.get(u)!;
        su.delete(v);
        for (const w of succ.get(v)!) su.add(w === v ? u : w);
        succ.delete(v);
        for (const s of succ.values()) if (s.has(v)) (s.delete(v), s.add(u));
        changed = true;
      }
    }
    if (!changed) return succ.size === 1;
  }
}

test('Cooper-Harvey-Kennedy dominators equal the set-intersection definition on random graphs', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const blocks = randomGraph(seed);
    const cfg = analyzeBlocks(0, blocks);
    const dom = naiveDominators(blocks);
    for (const b of blocks) {
      // idom(b) is the dominator of b (other than b) that every other dominator dominates.
      const strict = [...dom[b.id]!].filter((d) => d !== b.id);
      if (b.id === 0) continue;
      const idom = strict.find((d) => strict.every((e) => dom[d]!.has(e)));
      assert.equal(cfg.idom[b.id], idom, `seed ${seed} block ${b.id}`);
    }
  }
});

test('the reducibility test agrees with T1/T2 reduction on random graphs', () => {
  let reducible = 0;
  let irreducible = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const blocks = randomGraph(seed);
    const want = naiveReducible(blocks);
    assert.equal(analyzeBlocks(0, blocks).reducible, want, `seed ${seed}: ${JSON.stringify(blocks.map((b) => b.succ))}`);
    if (want) reducible++;
    else irreducible++;
  }
  assert.ok(reducible > 50 && irreducible > 10, `${reducible} reducible, ${irreducible} irreducible`);
});

/**
 * Execute structured code as WebAssembly would, with a scripted choice at
 * every conditional, and record the blocks visited; it must be a walk of the
 * graph along edges (taken = succ[0]).
 */
function walk(cfg: FunctionCfg, body: Stmts, choices: () => boolean, maxSteps: number, regions: readonly Region[] = []): number[] {
  const path: number[] = [];
  const w = body.w;
  let label = 0;
  let pending: boolean | undefined; // the decision made for the current block's condition
  type Out = { br: number } | 'exit' | undefined;
  const decide = (b: number, negate: boolean): boolean => {
    if (pending === undefined) throw new Error(`condition of block ${b} evaluated before its code`);
    const taken = pending;
    return negate ? !taken : taken;
  };
  // The statements in [from, to), one list: a construct runs its body up to its end; regions run where they start.
  const run = (from: number, to: number, inRegion: boolean): Out => {
    for (let p = from; p < to; ) {
      if (path.length > maxSteps) return 'exit';
      const r = inRegion ? -1 : regions.findIndex((x) => x.from === p);
      if (r >= 0) {
        // A region runs where it stands; a branch out of it must be one of its escapes.
        const reg = regions[r]!;
        const o = run(reg.from, reg.to, true);
        if (o === 'exit') return o;
        if (o !== undefined) {
          assert.ok(reg.escapes.includes(reg.depth - 1 - o.br), `region ${r} left to label ${reg.depth - 1 - o.br}, not among its escapes ${reg.escapes.join(',')}`);
          return o;
        }
        p = reg.to;
        continue;
      }
      const k = w[p]!;
      const b = w[p + 1]!;
      const negate = w[p + 2] !== 0;
      const d = w[p + 3]!;
      if (k === S_BLOCK || k === S_LOOP || k === S_IF) {
        const end = stmtEnd(body, p);
        const inner = (): Out => run(p + STRIDE, end - STRIDE, inRegion);
        if (k === S_BLOCK) {
          const o = inner();
          if (o === 'exit') return o;
          if (o !== undefined && o.br > 0) return { br: o.br - 1 };
        } else if (k === S_LOOP) {
          for (;;) {
            const o = inner();
            if (o === 'exit') return o;
            if (o === undefined) break;
            if (o.br > 0) return { br: o.br - 1 };
            // br 0 continues the loop
          }
        } else if (decide(b, negate)) {
          const o = inner();
          if (o === 'exit') return o;
          if (o !== undefined && o.br > 0) return { br: o.br - 1 };
        }
        p = end;
        continue;
      }
      p += STRIDE;
      switch (k) {
        case S_CODE:
          path.push(b);
          pending = cfg.term[b] === TERM_COND ? choices() : undefined;
          break;
        case S_EXIT:
          return 'exit';
        case S_BR:
          return { br: d };
        case S_BR_IF:
          if (decide(b, negate)) return { br: d };
          break;
        case S_SET_LABEL:
          label = d;
          break;
        case S_BR_TABLE:
          return { br: label < d ? label : d - 1 };
        case S_END:
          throw new Error(`unbalanced end at ${p - STRIDE}`);
      }
    }
    return undefined;
  };
  const o = run(0, body.n, false);
  assert.ok(o === 'exit' || path.length > maxSteps, `fell off the end or branched out (${JSON.stringify(o)})`);
  return path;
}

for (const outlined of [false, true])
test(`structured output${outlined ? ', outlined into regions,' : ''} walks the graph: every step follows an edge chosen by the condition`, () => {
  let split = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const blocks = randomGraph(seed);
    const cfg = analyzeBlocks(0, blocks);
    const { body, dispatch } = structure(cfg);
    const regions = outlined && !dispatch ? outline(body, cfg.n, () => 1, { above: 0, target: 2, min: 1 }) : [];
    if (regions.length) split++;
    for (let trial = 0; trial < 4; trial++) {
      const rand = rng(seed * 7 + trial);
      const decisions: boolean[] = [];
      const path = walk(cfg, body, () => {
        const d = rand() < 0.5;
        decisions.push(d);
        return d;
      }, 200, regions);
      assert.equal(path[0], 0);
      let di = 0;
      for (let k = 0; k + 1 < path.length; k++) {
        const b = path[k]!;
        const expect = cfg.term[b] === TERM_COND ? (decisions[di++]! ? cfg.succ0[b] : cfg.succ1[b]) : cfg.succ0[b];
        assert.equal(path[k + 1], expect, `seed ${seed}: step ${k} from ${b}, path ${path.join(',')}`);
      }
      if (path.length <= 200) assert.equal(cfg.term[path[path.length - 1]!], TERM_EXIT, `seed ${seed}: ended in a non-exit block`);
    }
  }
  if (outlined) assert.ok(split > 200, `graphs outlined: ${split}`);
});
