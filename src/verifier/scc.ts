/**
 * Loops' strongly connected components and their visits (Linux 6.17+: compute_scc,
 * compute_scc_callchain, maybe_enter_scc / maybe_exit_scc, add_scc_backedge,
 * incomplete_read_marks in kernel/bpf/verifier.c).
 *
 * The kernel's liveness and precision marks of a state inside a loop are final only once every
 * path from the loop's entry state has been explored. While a visit of the loop is under way and
 * some path in it has already been pruned against one of the loop's own states (a "backedge"),
 * the marks of the loop's states are incomplete, and is_state_visited compares against them
 * RANGE_WITHIN: every live register and every stack byte, value ranges by containment, nothing
 * excused as imprecise or unread. When the entry state's last branch ends (update_branch_counts)
 * the visit is over, its backedges are dropped (after propagating their marks, which tsbpf's
 * static marks do not need), and the ordinary comparison applies again.
 *
 * tsbpf's liveness and precision are static (precision.ts, stack-liveness.ts) and already final,
 * so pruning by them would be sound; but it would prune states Linux explores (and so accept
 * programs Linux stops at the 1M-instruction limit, Falco's sendmmsg_x), so the rule is followed
 * as Linux has it.
 */
import type { Insn } from '../isa/insn.js';
import type { SuccessorTable } from '../isa/control-flow.js';
import type { VerifierState } from './state.js';

/**
 * compute_scc: the SCC number of each instruction over the intraprocedural control-flow graph
 * (calls fall through), 0 for an instruction alone in its component with no edge to itself, unless
 * it calls a callback again after each return (an implicit loop: bpf_loop and its kind).
 */
export function computeScc(insns: readonly Insn[], succ: SuccessorTable, callsCallbackAt: (i: number) => boolean): Int32Array {
  const n = insns.length;
  const scc = new Int32Array(n);
  const { off, to, second } = succ;
  const pre = new Int32Array(n), low = new Int32Array(n), onStack = new Uint8Array(n);
  const stack: number[] = [];
  const dfs: number[] = [], edge: number[] = [];
  let nextPre = 1, nextId = 1;
  for (let root = 0; root < n; root++) {
    if (pre[root] || second[root]) continue;
    dfs.push(root);
    edge.push(off[root]!);
    pre[root] = low[root] = nextPre++;
    stack.push(root);
    onStack[root] = 1;
    while (dfs.length) {
      const w = dfs[dfs.length - 1]!;
      const e = edge[edge.length - 1]!;
      if (e < off[w + 1]!) {
        edge[edge.length - 1] = e + 1;
        const t = to[e]!;
        if (!pre[t]) {
          pre[t] = low[t] = nextPre++;
          stack.push(t);
          onStack[t] = 1;
          dfs.push(t);
          edge.push(off[t]!);
        } else if (onStack[t]) {
          low[w] = Math.min(low[w]!, pre[t]!);
        }
        continue;
      }
      dfs.pop();
      edge.pop();
      if (dfs.length) {
        const p = dfs[dfs.length - 1]!;
        low[p] = Math.min(low[p]!, low[w]!);
      }
      if (low[w] !== pre[w]) continue;
      // w is the root of a component: pop it
      let assign = stack[stack.length - 1] !== w;
      for (let k = off[w]!; k < off[w + 1]!; k++) if (to[k] === w) assign = true;
      if (callsCallbackAt(w)) assign = true;
      const id = assign ? nextId++ : 0;
      for (;;) {
        const x = stack.pop()!;
        onStack[x] = 0;
        scc[x] = id;
        if (x === w) break;
      }
    }
  }
  return scc;
}

/** One visit of a loop along one call chain (bpf_scc_visit): its entry state and how many backedges it has. */
interface SccVisit {
  entry: object | null;
  backedges: number;
}

/** The loops' visits of one walk (env->scc_info). */
export class SccVisits {
  private readonly visits = new Map<string, SccVisit>();

  /** @param scc per instruction (computeScc) */
  constructor(private readonly scc: Int32Array) {}

  /**
   * compute_scc_callchain: the call sites of the frames above the first one (from the outermost)
   * whose instruction is in a loop, and that loop's number; undefined if no frame's is.
   */
  callchain(st: VerifierState, insn: number): string | undefined {
    let key = '';
    const last = st.frames.length - 1;
    for (let k = 0; k <= last; k++) {
      const at = k === last ? insn : st.frames[k + 1]!.callsite;
      const id = this.scc[at] ?? 0;
      if (id) return key + id;
      if (k < last) key += at + ',';
    }
    return undefined;
  }

  /** maybe_enter_scc: a new checkpoint `cp` in a loop starts the loop's visit unless one is under way. */
  enter(cp: object, st: VerifierState, insn: number): void {
    const key = this.callchain(st, insn);
    if (key === undefined) return;
    let v = this.visits.get(key);
    if (!v) this.visits.set(key, (v = { entry: null, backedges: 0 }));
    if (!v.entry) v.entry = cp;
  }

  /** maybe_exit_scc: checkpoint `cp` has no branch left; if it entered its loop's visit, the visit ends. */
  exit(cp: object, st: VerifierState, insn: number): void {
    const key = this.callchain(st, insn);
    if (key === undefined) return;
    const v = this.visits.get(key);
    if (!v || v.entry !== cp) return;
    v.entry = null;
    v.backedges = 0;
  }

  /** add_scc_backedge: a path was pruned against `st`, a state of a loop whose visit is under way. */
  addBackedge(st: VerifierState, insn: number): void {
    const key = this.callchain(st, insn);
    if (key === undefined) return;
    const v = this.visits.get(key);
    if (v) v.backedges++;
  }

  /** incomplete_read_marks: `st` is in a loop whose current visit has backedges. */
  incomplete(st: VerifierState, insn: number): boolean {
    const key = this.callchain(st, insn);
    if (key === undefined) return false;
    return (this.visits.get(key)?.backedges ?? 0) > 0;
  }
}
