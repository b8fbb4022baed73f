/**
 * The kernel's check_max_stack_depth(_subprog), run after every path has
 * been verified: a static walk of the call graph from the main program that
 * follows, in instruction order, every bpf-to-bpf call and every callback
 * reference (ld_imm64 of a function) in each function's body, reachable or
 * not. Along each chain it checks
 * - at most 8 frames: the walk does not know the run-time bound of a
 *   recursion, so any recursive call ends in "the call stack of 8 frames is
 *   too deep !" even when the paths explored stop earlier;
 * - the combined stack of the chain is at most 512 bytes, each frame
 *   rounded up to 16 bytes (round_up_stack_depth with the JIT, always on in
 *   Linux 6.18 on x86-64); where the JIT gives a program type private
 *   stacks (kprobe, tracepoint, perf_event, raw_tracepoint and tracing, when
 *   no function tail-calls: bpf_enable_priv_stack), a frame of 64 bytes or
 *   more lives on its own stack and does not count;
 * - a function that makes a tail call is not entered with 256 or more bytes
 *   of callers' stack below it (32 tail calls x 256 bytes bound the stack);
 * - no LD_ABS/LD_IND in a callback or a function a callback calls;
 * - no tail call in a function a callback calls (Linux 6.18: "cannot tail call
 *   within callback").
 * An async callback (bpf_timer_set_callback's) runs on a stack of its own: its
 * chains are walked from it as another root, and the main program's walk
 * follows it only where a function calls it directly (not its ld_imm64); it may
 * not tail-call itself. The exception callback (exception-entry.ts) is one of
 * these, and no function may call it directly.
 */
import { calleeStart, isPseudoCall, isPseudoFunc } from '../isa/control-flow.js';
import { HELPER_TAIL_CALL } from '../uapi/helper-ids.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';

export interface StackDepthError {
  errno: 'E2BIG' | 'EACCES' | 'EINVAL' | 'EFAULT';
  message: string;
  insn: number;
  hint: string;
  rule: string;
}

export function checkMaxStackDepth(
  insns: readonly Insn[],
  starts: readonly number[],
  /** the stack bytes function k uses (the deepest access on any verified path) */
  stackDepth: (k: number) => number,
  /** the program type has JIT private stacks (bpf_enable_priv_stack) */
  privStackType = false,
  /** the first instructions of the async callbacks (the kernel's is_async_cb subprogs) */
  asyncCallbacks: { has(start: number): boolean } = new Set(),
  /** the instruction is a call of the kfunc bpf_throw (is_bpf_throw_kfunc) */
  isThrow: (insn: number) => boolean = () => false,
  /** the exception callback's first instruction (mark_subprog_exc_cb: a callback, an async one) */
  exceptionCb?: number,
): StackDepthError | undefined {
  const depthOf = (k: number): number => Math.ceil(stackDepth(k) / 16) * 16;
  const n = insns.length;
  const subprogOf = (insn: number): number => {
    let k = starts.length - 1;
    while (k > 0 && starts[k]! > insn) k--;
    return k;
  };
  const end = (k: number): number => (k + 1 < starts.length ? starts[k + 1]! : n);
  const isCb = new Array<boolean>(starts.length).fill(false);
  const hasLdAbs = new Array<boolean>(starts.length).fill(false);
  const hasTailCall = new Array<boolean>(starts.length).fill(false);
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    const cls = op.classOf(ins.code);
    if (isPseudoFunc(ins)) isCb[subprogOf(calleeStart(ins, i))] = true;
    if (cls === op.BPF_LD && (op.modeOf(ins.code) === op.BPF_ABS || op.modeOf(ins.code) === op.BPF_IND)) hasLdAbs[subprogOf(i)] = true;
    if (ins.code === op.OP_CALL && ins.src === 0 && ins.imm === HELPER_TAIL_CALL) hasTailCall[subprogOf(i)] = true;
    if (ins.code === op.OP_LDDW) i++;
  }

  const privStack = privStackType && !hasTailCall.some((x) => x);
  /** PRIV_STACK_ADAPTIVE: the frame is on a private stack (BPF_PRIV_STACK_MIN_SIZE = 64) */
  const adaptive = (k: number): boolean => privStack && depthOf(k) >= 64;
  const isAsync = starts.map((s) => asyncCallbacks.has(s) || s === exceptionCb);
  const exCb = exceptionCb === undefined ? -1 : starts.indexOf(exceptionCb);
  if (exCb > 0) isCb[exCb] = true;
  // check_max_stack_depth: the async callbacks' roots, last function first, then the main program's
  for (let k = starts.length - 1; k >= 0; k--) {
    if (k && !isAsync[k]) continue;
    const e = walk(k);
    if (e) return e;
  }
  return undefined;

  function walk(root: number): StackDepthError | undefined {
    // (private stacks are the main program's only)
    const adapt = (k: number): boolean => root === 0 && adaptive(k);
    // An explicit stack, as the kernel's (recursion would follow a recursive program forever).
    const retInsn: number[] = [];
    const retProg: number[] = [];
    let idx = root;
    let i = starts[root]!;
    let depth = 0;
    let frame = 0;
    // a function entered along the walk tail-calls (the kernel's tail_call_reachable, never reset within a root)
    let tailCallReachable = false;
    for (;;) {
      // process_func: entering function idx
      if (hasLdAbs[idx] && (isCb[idx] || retProg.slice(0, frame).some((k) => isCb[k])))
        return { errno: 'EINVAL', message: 'cannot use BPF_LD_[ABS|IND] within callback', insn: starts[idx]!, hint: 'read packet bytes with bpf_skb_load_bytes() inside callbacks',
          rule: 'legacy packet loads cannot be used in a callback, which has no way to end the program' };
      if (idx && hasTailCall[idx] && depth >= 256)
        return { errno: 'EACCES', message: `tail_calls are not allowed when call stack of previous frames is ${depth} bytes. Too large`, insn: starts[idx]!,
          hint: 'use less stack in the functions that call this one, or move the tail call to a shallower function',
          rule: 'a function that tail-calls must be entered with less than 256 bytes of stack below it' };
      if (!adapt(idx)) depth += depthOf(idx);
      if (depth > op.MAX_BPF_STACK)
        return { errno: 'EACCES', message: `combined stack size of ${frame + 1} calls is ${depth}. Too large`, insn: starts[idx]!,
          hint: 'move large buffers into a per-CPU array map', rule: 'the stack frames of a call chain exceed 512 bytes together' };
      // continue_func: scan the rest of function idx for calls
      let entered = false;
      while (!entered) {
        for (; i < end(idx); i++) {
          const ins = insns[i]!;
          // a callback cannot unwind its caller's program: no bpf_throw in one, or below one
          if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL && ins.off === 0 && isThrow(i) &&
              (isCb[idx] || retProg.slice(0, frame).some((k) => isCb[k])))
            return { errno: 'EINVAL', message: `bpf_throw kfunc (insn ${i}) cannot be called from callback subprog ${idx}`, insn: i,
              hint: 'return an error code from the callback and throw in the program after the helper that called it returns',
              rule: 'bpf_throw cannot unwind through a callback' };
          if (!isPseudoCall(ins) && !isPseudoFunc(ins)) continue;
          const next = calleeStart(ins, i);
          const callee = subprogOf(next);
          if (isAsync[callee]) {
            // (Linux 6.18's words; an async callback is a program of its own, which a tail call would leave)
            if (hasTailCall[callee])
              return { errno: 'EFAULT', message: 'verifier bug: subprog has tail_call and async cb', insn: i, hint: 'move the tail call out of the timer or exception callback',
                rule: 'an async or exception callback cannot tail-call' };
            // async callbacks don't increase the program's stack unless called directly
            if (isPseudoFunc(ins)) continue;
            if (callee === exCb)
              return { errno: 'EINVAL', message: `insn ${i} cannot call exception cb directly`, insn: i,
                hint: 'the exception callback runs only when bpf_throw() unwinds the program: call another function', rule: 'the exception callback is called directly' };
          }
          retInsn[frame] = i + 1;
          retProg[frame] = idx;
          i = next;
          idx = callee;
          if (hasTailCall[idx]) tailCallReachable = true;
          frame++;
          if (frame >= op.MAX_CALL_FRAMES)
            return { errno: 'E2BIG', message: `the call stack of ${frame} frames is too deep !`, insn: retInsn[frame - 1]! - 1,
              hint: 'flatten the call chain (at most 8 nested functions); recursion is never allowed, whatever its run-time bound',
              rule: 'the static call graph has a chain of more than 8 functions (or a recursive call)' };
          entered = true;
          break;
        }
        if (entered) break;
        // the end of function idx: no callback below which a function tail-calls (tail_call_reachable)
        if (tailCallReachable && retProg.slice(0, frame).some((k) => isCb[k]))
          return { errno: 'EINVAL', message: 'cannot tail call within callback', insn: starts[idx]!,
            hint: 'a callback returns to the helper that called it: tail-call from the program after that helper returns',
            rule: 'a function a callback calls makes a tail call' };
        // return to the caller
        if (frame === 0) return undefined;
        if (!adapt(idx)) depth -= depthOf(idx);
        frame--;
        i = retInsn[frame]!;
        idx = retProg[frame]!;
      }
    }
  }
}

/**
 * check_abnormal_return: without BTF func_info, Linux cannot describe a
 * bpf-to-bpf function's frame to the JIT's unwinding, so no function but
 * the main program may contain LD_ABS/LD_IND (which may end it early) or a
 * tail call.
 */
/**
 * check_btf_func: with BTF, a function other than the main program that contains LD_ABS/LD_IND or
 * a tail call must return an integer or enum (btf_type_is_small_int / btf_is_any_enum), since
 * both may return from it early with r0 = 0 (the LD_ABS rewrite's hidden exit; a tail-called
 * program's return value).
 */
export function checkAbnormalReturnType(insns: readonly Insn[], starts: readonly number[], scalarReturn: (k: number) => boolean): { message: string; insn: number } | undefined {
  for (let k = 1; k < starts.length; k++) {
    const end = k + 1 < starts.length ? starts[k + 1]! : insns.length;
    let ldAbs = false, tailCall = false;
    for (let i = starts[k]!; i < end; i++) {
      const ins = insns[i]!;
      if (op.classOf(ins.code) === op.BPF_LD && (op.modeOf(ins.code) === op.BPF_ABS || op.modeOf(ins.code) === op.BPF_IND)) ldAbs = true;
      if (ins.code === op.OP_CALL && ins.src === 0 && ins.imm === HELPER_TAIL_CALL) tailCall = true;
      if (ins.code === op.OP_LDDW) i++;
    }
    if ((ldAbs || tailCall) && !scalarReturn(k))
      return { message: `${ldAbs ? 'LD_ABS' : 'tail_call'} is only allowed in functions that return 'int'.`, insn: starts[k]! };
  }
  return undefined;
}

export function checkAbnormalReturn(insns: readonly Insn[], starts: readonly number[]): { message: string; insn: number } | undefined {
  for (let k = 1; k < starts.length; k++) {
    const end = k + 1 < starts.length ? starts[k + 1]! : insns.length;
    for (let i = starts[k]!; i < end; i++) {
      const ins = insns[i]!;
      if (op.classOf(ins.code) === op.BPF_LD && (op.modeOf(ins.code) === op.BPF_ABS || op.modeOf(ins.code) === op.BPF_IND))
        return { message: 'LD_ABS is not allowed in subprogs without BTF', insn: i };
      if (ins.code === op.OP_CALL && ins.src === 0 && ins.imm === HELPER_TAIL_CALL) return { message: 'tail_call is not allowed in subprogs without BTF', insn: i };
      if (ins.code === op.OP_LDDW) i++;
    }
  }
  return undefined;
}
