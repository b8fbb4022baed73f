/**
 * Control-flow checks before abstract interpretation (the kernel's
 * check_subprogs and check_cfg): subprogram boundaries, jumps that leave
 * their function, code that falls off a function's end, unreachable
 * instructions and, for unprivileged programs, back-edges (loops). It also
 * marks the prune points where states are remembered, and computes which
 * registers are live before each instruction so that pruning can ignore
 * dead ones (as the kernel's compute_live_registers does).
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { calleeStart, isCondJump, isJump, isPseudoCall, isPseudoFunc, jumpTarget, successorTable, type SuccessorTable } from '../isa/control-flow.js';

/**
 * A helper call that calls a callback synchronously, any number of times (the kernel's
 * is_sync_callback_calling_insn, marked calls_callback): bpf_loop, bpf_for_each_map_elem,
 * bpf_find_vma, bpf_user_ringbuf_drain. Each return from the callback comes back to this call.
 */
export function callsCallback(ins: Insn): boolean {
  if (ins.code !== op.OP_CALL || ins.src !== 0) return false;
  const id = ins.imm;
  return id === BPF_FUNC.loop || id === BPF_FUNC.for_each_map_elem || id === BPF_FUNC.find_vma || id === BPF_FUNC.user_ringbuf_drain;
}

export class CfgError extends Error {
  constructor(readonly insn: number, message: string) {
    super(message);
  }
}

export interface Cfg {
  /** sorted first instructions of the functions (0 is the main program) */
  subprogStarts: number[];
  /** function index of each slot */
  subprogOf: Int32Array;
  prunePoint: Uint8Array;
  /**
   * where the kernel's check_cfg puts jump points (mark_jmp_point): jump targets, the instruction
   * after a call, a function's entry and a call that calls its callback again; the walk records
   * each one it passes in the path's instruction history (do-check.ts)
   */
  jmpPoint: Uint8Array;
  /** registers live before each instruction (bit n = rn) */
  liveIn: Uint16Array;
  /** static call graph: function index -> callee function indices (calls and callbacks) */
  callees: Array<Set<number>>;
  /** the successor relation (control-flow.ts), for the other analyses that walk it */
  succ: SuccessorTable;
}

export interface CfgOptions {
  /** bounded loops are allowed (bpf_capable) */
  allowLoops: boolean;
  /** number of arguments a helper reads (for liveness) */
  helperArgs: (id: number) => number;
  /** a kfunc call that calls its callback synchronously (bpf_rbtree_add_impl: is_sync_callback_calling_kfunc) */
  syncCallbackKfunc?: (insn: number) => boolean;
  /** the exception callback's first instruction (exception-entry.ts): a function, and a root of the walk, even if nothing refers to it */
  exceptionCb?: number;
}

const bit = (r: number): number => 1 << r;
const ARGS = 0b111110; // r1..r5
const CALLER_SAVED = 0b111111; // r0..r5

const ud = (use: number, def: number): number => use | (def << 16);

/**
 * The registers instruction `ins` reads (use) and writes (def), packed as use | def << 16: one
 * number rather than a pair, since it runs once per instruction of every program verified.
 */
function useDef(ins: Insn, helperArgs: (id: number) => number): number {
  const cls = op.classOf(ins.code);
  const o = op.opOf(ins.code);
  const x = op.sourceOf(ins.code) === op.BPF_X;
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      if (o === op.BPF_MOV) return ud(x ? bit(ins.src) : 0, bit(ins.dst));
      if (o === op.BPF_END || o === op.BPF_NEG) return ud(bit(ins.dst), bit(ins.dst));
      return ud(bit(ins.dst) | (x ? bit(ins.src) : 0), bit(ins.dst));
    case op.BPF_LDX:
      return ud(bit(ins.src), bit(ins.dst));
    case op.BPF_ST:
      return ud(bit(ins.dst), 0);
    case op.BPF_STX:
      if (op.modeOf(ins.code) === op.BPF_ATOMIC) {
        if (ins.imm === op.BPF_CMPXCHG) return ud(bit(ins.dst) | bit(ins.src) | 1, 1);
        if (ins.imm & op.BPF_FETCH) return ud(bit(ins.dst) | bit(ins.src), bit(ins.src));
        if (ins.imm === op.BPF_LOAD_ACQ) return ud(bit(ins.src), bit(ins.dst));
      }
      return ud(bit(ins.dst) | bit(ins.src), 0);
    case op.BPF_LD:
      if (ins.code === op.OP_LDDW) return ud(0, bit(ins.dst));
      return ud(bit(6) | (op.modeOf(ins.code) === op.BPF_IND ? bit(ins.src) : 0), CALLER_SAVED);
    case op.BPF_JMP:
    case op.BPF_JMP32:
      if (o === op.BPF_EXIT) return ud(1, 0);
      if (o === op.BPF_JA || o === op.BPF_JCOND) return ud(0, 0); // may_goto reads no register
      if (o === op.BPF_CALL) {
        if (x) return ud(ARGS | bit(ins.dst), CALLER_SAVED);
        if (ins.src === op.BPF_PSEUDO_HELPER) {
          const n = Math.min(5, helperArgs(ins.imm));
          return ud(((1 << (n + 1)) - 1) & ~1, CALLER_SAVED);
        }
        return ud(ARGS, CALLER_SAVED);
      }
      return ud(bit(ins.dst) | (x ? bit(ins.src) : 0), 0);
  }
  return ud(0, 0);
}

export function buildCfg(insns: readonly Insn[], opts: CfgOptions): Cfg {
  const n = insns.length;
  // Function boundaries: bpf-to-bpf call targets and function-pointer lddw targets.
  const starts = new Set<number>([0]);
  // add_subprog_and_kfunc: add_subprog(ex_cb_insn)
  if (opts.exceptionCb !== undefined) {
    if (opts.exceptionCb < 0 || opts.exceptionCb >= n) throw new CfgError(0, 'call to invalid destination');
    starts.add(opts.exceptionCb);
  }
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (isPseudoCall(ins) || isPseudoFunc(ins)) {
      const t = calleeStart(ins, i);
      if (t < 0 || t >= n) throw new CfgError(i, `jump out of range from insn ${i} to ${t}`);
      starts.add(t);
    }
    if (ins.code === op.OP_LDDW) i++;
  }
  const subprogStarts = [...starts].sort((a, b) => a - b);
  const subprogOf = new Int32Array(n);
  for (let k = 0; k < subprogStarts.length; k++) {
    const end = k + 1 < subprogStarts.length ? subprogStarts[k + 1]! : n;
    subprogOf.fill(k, subprogStarts[k]!, end);
  }
  // Jumps must stay inside their function; a function must not run off its end.
  for (let k = 0; k < subprogStarts.length; k++) {
    const end = k + 1 < subprogStarts.length ? subprogStarts[k + 1]! : n;
    let last = end - 1;
    if (last > 0 && insns[last - 1]!.code === op.OP_LDDW) last--;
    const lc = insns[last]!.code;
    if (lc !== op.OP_EXIT && lc !== op.OP_JA && lc !== op.OP_JA32) throw new CfgError(last, 'last insn is not an exit or jmp');
  }
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (isJump(ins)) {
      // successors(insns, i) without an array per jump: the fall-through first, then the target
      const t = jumpTarget(ins, i), fall = op.opOf(ins.code) !== op.BPF_JA;
      if (fall && (i + 1 >= n || subprogOf[i + 1] !== subprogOf[i])) throw new CfgError(i, `jump out of range from insn ${i} to ${i + 1}`);
      if (t < 0 || t >= n || subprogOf[t] !== subprogOf[i]) throw new CfgError(i, `jump out of range from insn ${i} to ${t}`);
    }
    if (ins.code === op.OP_LDDW) i++;
  }
  // Depth-first search from insn 0 through calls: reachability and back-edges.
  const prunePoint = new Uint8Array(n);
  const jmpPoint = new Uint8Array(n);
  const state = new Uint8Array(n); // 0 unseen, 1 on stack, 2 done
  const callees: Array<Set<number>> = subprogStarts.map(() => new Set<number>());
  const succ = successorTable(insns);
  const { off, to } = succ;
  // An explicit stack of (instruction, next edge): each instruction is pushed once. Its edges are
  // its successors, then the function a call or function pointer names.
  const stackInsn = new Int32Array(n), stackEdge = new Int32Array(n), calleeOf = new Int32Array(n).fill(-1);
  let sp = 0;
  const push = (i: number): void => {
    const ins = insns[i]!;
    if (isPseudoCall(ins) || isPseudoFunc(ins)) {
      const t = calleeStart(ins, i);
      callees[subprogOf[i]!]!.add(subprogOf[t]!);
      calleeOf[i] = t;
    }
    state[i] = 1;
    stackInsn[sp] = i;
    stackEdge[sp++] = 0;
  };
  push(0);
  // check_cfg: after the main program's walk, the exception callback's (ex_done)
  let exRoot = opts.exceptionCb;
  for (;;) {
    if (!sp) {
      if (exRoot === undefined || state[exRoot] !== 0) break;
      push(exRoot);
      exRoot = undefined;
    }
    const i = stackInsn[sp - 1]!;
    const k = stackEdge[sp - 1]!;
    const ns = off[i + 1]! - off[i]!;
    if (k >= ns + (calleeOf[i]! >= 0 ? 1 : 0)) {
      state[i] = 2;
      sp--;
      continue;
    }
    stackEdge[sp - 1] = k + 1;
    const w = k < ns ? to[off[i]! + k]! : calleeOf[i]!;
    if (state[w] === 0) push(w);
    else if (state[w] === 1) {
      const isCall = insns[i]!.code === op.OP_CALL || insns[i]!.code === op.OP_LDDW;
      if (!opts.allowLoops && !isCall) throw new CfgError(i, `back-edge from insn ${i} to ${w}`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (state[i] === 0) throw new CfgError(i, `unreachable insn ${i}`);
    if (insns[i]!.code === op.OP_LDDW) i++;
  }
  // Prune points, where the kernel's visit_insn puts them.
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (isCondJump(ins)) {
      prunePoint[i] = 1;
      prunePoint[jumpTarget(ins, i)] = 1;
      jmpPoint[jumpTarget(ins, i)] = 1;
    }
    else if (ins.code === op.OP_JA || ins.code === op.OP_JA32) {
      prunePoint[jumpTarget(ins, i)] = 1;
      jmpPoint[jumpTarget(ins, i)] = 1;
    }
    else if (ins.code === op.OP_CALL) {
      if (i + 1 < n) prunePoint[i + 1] = jmpPoint[i + 1] = 1;
      const cb = callsCallback(ins);
      if (cb) jmpPoint[i] = 1;
      // (and an async-callback-calling helper: is_state_visited before it pushes another async state)
      if (ins.src === op.BPF_PSEUDO_CALL || (ins.src === 0 && ins.imm === BPF_FUNC.timer_set_callback)) prunePoint[i] = 1;
      // (a helper that calls its callback synchronously is entered again after each call: a
      // forced checkpoint there finds the iteration that converges, do-check.ts)
      if (cb || opts.syncCallbackKfunc?.(i)) prunePoint[i] = 1;
    }
    if (ins.code === op.OP_LDDW) i++;
  }
  for (const s of subprogStarts) if (s !== 0) {
    prunePoint[s] = 1;
    jmpPoint[s] = 1;
  }
  // Liveness: backward fixpoint over the successor relation.
  const use = new Uint16Array(n), def = new Uint16Array(n), liveIn = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const packed = useDef(insns[i]!, opts.helperArgs);
    use[i] = packed & 0xffff;
    def[i] = packed >>> 16;
  }
  // (without loops, the pass in reverse order is the fixpoint: no second pass to confirm it)
  for (let changed = true; changed; changed &&= !succ.forward) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      let out = 0;
      for (let e = off[i]!, end = off[i + 1]!; e < end; e++) out |= liveIn[to[e]!]!;
      const v = use[i]! | (out & ~def[i]!);
      if (v !== liveIn[i]) {
        liveIn[i] = v;
        changed = true;
      }
    }
  }
  return { subprogStarts, subprogOf, prunePoint, jmpPoint, liveIn, callees, succ };
}
