/**
 * Calls and exits: the dispatch of BPF_CALL by its kind (helper, kfunc,
 * bpf-to-bpf, global function), a new frame for a bpf-to-bpf call
 * (check_func_call / setup_func_entry), and BPF_EXIT, which returns to
 * the caller (prepare_func_exit) or ends the program, where the return
 * value, references and locked sections are checked (check_return_code,
 * check_reference_leak).
 */
import { calleeStart } from '../isa/control-flow.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg, regTypeStr } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { Frame } from './state.js';
import { frameStr } from './log.js';
import { checkGlobalCall, checkGlobalExit } from './call-global.js';
import { checkKfuncCall } from './call-kfunc.js';
import { checkHelperCall } from './call-helper.js';
import { callbackReturn } from './callback.js';
import { sockRefLeak } from './sock.js';
import { checkCallUnderLock, checkNoLock } from './spin-lock.js';
import { GRAPH_API_KFUNCS } from './alloc-obj.js';
import { ASYNC_CALLBACK_RET, isAsyncCallbackFrame } from './timer.js';
import { inExceptionCb } from './exception-entry.js';

export function checkCall(env: Verifier, i: number, ins: Insn): number {
  if (op.sourceOf(ins.code) === op.BPF_X) throw new Reject({
    errno: 'EINVAL',
    message: 'callx (indirect calls) are not supported by the verifier',
    insn: i,
  });
  // with a bpf_spin_lock held, only bpf_spin_unlock and bpf-to-bpf functions (spin-lock.ts)
  if (ins.src === op.BPF_PSEUDO_KFUNC_CALL) {
    // (is_bpf_graph_api_kfunc: the graph kfuncs work under the lock; of them tsbpf judges bpf_refcount_acquire)
    if (!GRAPH_API_KFUNCS.has(env.input.kfuncOfInsn?.(i) ?? '')) checkCallUnderLock(env, i, 'kfunc');
    return checkKfuncCall(env, i);
  }
  if (ins.src === op.BPF_PSEUDO_CALL) {
    // unprivileged programs never get here: checkUnprivCalls (check.ts) refused every call first
    const k = env.cfg.subprogOf[calleeStart(ins, i)]!;
    if (env.globals.has(k)) {
      checkCallUnderLock(env, i, 'global');
      return checkGlobalCall(env, i, k);
    }
    return enterFunc(env, i, calleeStart(ins, i), 0, null);
  }
  checkCallUnderLock(env, i, 'helper', ins.imm);
  return checkHelperCall(env, i, ins.imm);
}

/** Push a frame for a bpf-to-bpf call or a callback. */
export function enterFunc(env: Verifier, callsite: number, target: number, callbackOf: number, args: Reg[] | null): number {
  const st = env.cur;
  if (st.frames.length >= op.MAX_CALL_FRAMES)
    throw new Reject({
      errno: 'E2BIG',
      message: `the call stack of ${st.frames.length + 1} frames is too deep !`,
      insn: callsite,
      hint: 'flatten the call chain (at most 8 nested functions)',
      rule: 'more than 8 nested function calls',
    });
  const caller = st.cur;
  const f = new Frame(st.frames.length, callsite, target);
  if (args) {
    for (let r = 1; r <= 5; r++) f.regs[r] = args[r - 1] ? args[r - 1]!.clone() : Reg.notInit();
    f.callbackOf = callbackOf;
  } else {
    for (let r = 1; r <= 5; r++) f.regs[r] = caller.regs[r]!.clone();
  }
  f.regs[10] = Reg.ptr('fp', { frameno: f.frameno });
  st.frames.push(f);
  if (env.logLevel > 0) {
    env.flushInsnLog();
    env.log(`caller:\n ${frameStr(caller, env)}\ncallee:\n ${frameStr(f, env)}`);
  }
  return target;
}

export function checkExit(env: Verifier): number {
  const i = env.idx;
  const st = env.cur;
  const f = st.cur;
  // prepare_func_exit hands r0 to the caller whatever it holds, uninitialised included (the caller's
  // own use or exit then checks it); only the main program's and a callback's exit read it here.
  // check_return_code: an lsm program on a void hook never reads R0 (the reference and lock checks still apply)
  // check_resource_leak: the program may not end holding a bpf_spin_lock (first of its checks, Linux 6.18)
  if (st.frames.length === 1) checkNoLock(env, i, 'BPF_EXIT instruction in main prog');
  // (the exception callback's exit is the program's: check_return_code's in_exception_callback_fn)
  const programExit = f.subprog === 0 || inExceptionCb(env, f.subprog);
  const unchecked = st.frames.length === 1 && programExit && env.rules.retUnchecked === true;
  const r0 = (st.frames.length > 1 && !f.callbackOf) || unchecked ? env.regs()[0]! : env.readReg(0);
  if (st.frames.length > 1) {
    // Return from a bpf-to-bpf call or a callback (prepare_func_exit), which refuses any stack pointer
    // (only the callee's own frame dies, but Linux is conservative).
    if (r0.type === 'fp')
      throw new Reject({
        errno: 'EINVAL',
        message: 'cannot return stack pointer to the caller frame',
        insn: i,
        regs: [0],
        hint: 'return a value, or write through a pointer the caller passed in',
        rule: 'a function returns a stack pointer (Linux refuses any, even one into a caller\'s frame)',
      });
    if (f.callbackOf) return callbackReturn(env, r0);
    st.frames.pop();
    const caller = st.cur;
    caller.regs[0] = r0.clone();
    for (let r = 1; r <= 5; r++) caller.regs[r] = Reg.notInit();
    if (env.logLevel > 0) { env.flushInsnLog(); env.log(`returning from callee:\n ${frameStr(f, env)}\nto caller at ${f.callsite + 1}:\n ${frameStr(caller, env)}`); }
    return f.callsite + 1;
  }
  // an async callback (timer.ts) ends like a program of its own, with R0 checked against [0, 0]
  const asyncCb = isAsyncCallbackFrame(f);
  if (!programExit && !asyncCb) return checkGlobalExit(env, i, r0);
  if (st.rcuLock)
    throw new Reject({
      errno: 'EINVAL',
      message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region',
      insn: i,
      hint: 'call bpf_rcu_read_unlock() on every path before returning',
      rule: 'the program returns inside a bpf_rcu_read_lock() section',
    });
  if (st.preemptLock)
    // Linux 6.18's words (6.12 said "N bpf_preempt_enable(s) are missing")
    throw new Reject({
      errno: 'EINVAL',
      message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region',
      insn: i,
      hint: 'match every bpf_preempt_disable() with a bpf_preempt_enable() on every path',
      rule: 'the program returns with preemption disabled',
    });
  if (r0.isPointer && !env.privileged && !unchecked) throw new Reject({
    errno: 'EACCES',
    message: 'R0 leaks addr as return value',
    insn: i,
    regs: [0],
    hint: 'return a number, not a pointer',
    rule: 'unprivileged programs may not return pointers',
  });
  const range = asyncCb ? ASYNC_CALLBACK_RET : unchecked ? undefined : env.rules.retRange;
  const where = asyncCb ? 'At async callback return' : 'At program exit';
  if (range) {
    if (r0.type !== 'scalar') throw new Reject({
      errno: 'EINVAL',
      message: `${where} the register R0 is not a known value (${regTypeStr(r0)})`,
      insn: i,
      regs: [0],
    });
    // retval_range_within: the 64-bit bounds, or the signed 32-bit ones (return_32bit, lsm hooks)
    const [lo, hi] = env.rules.retRange32 && !asyncCb ? [BigInt(r0.s.s32min), BigInt(r0.s.s32max)] : [r0.s.smin, r0.s.smax];
    if (lo < BigInt(range[0]) || hi > BigInt(range[1]))
      throw new Reject({
        errno: 'EINVAL',
        message: `${where} the register R0 has${rangeText(r0)} should have been in [${range[0]}, ${range[1]}]`,
        insn: i,
        regs: [0],
        hint: `return a value in [${range[0]}, ${range[1]}]`,
        rule: asyncCb ? 'a timer callback must return 0' : `${env.rules.name} programs must return a value in [${range[0]}, ${range[1]}]`,
      });
  }
  if (st.refs.length) throw unreleasedRef(env, i);
  return -1;
}

/** check_reference_leak: a reference still held at exit (a ring buffer reservation, an acquired kernel object). */
export function unreleasedRef(env: Verifier, i: number): Reject {
  const ref = env.cur.refs[0]!;
  const kfunc = env.input.kfuncOfInsn?.(ref.insn);
  const iter = /^bpf_iter_(\w+)_new$/.exec(kfunc ?? '')?.[1];
  if (iter) return new Reject({
    errno: 'EINVAL',
    message: `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`,
    insn: i,
    hint: `every path must call bpf_iter_${iter}_destroy on the iterator that ${kfunc} created (insn ${ref.insn}), also when it leaves the loop early, and must not overwrite it before`,
    rule: `an iterator created by ${kfunc} is not destroyed on this path`,
  });
  const sock = sockRefLeak(env, ref.insn);
  if (sock) return new Reject({
    errno: 'EINVAL',
    message: `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`,
    insn: i,
    ...sock,
  });
  return new Reject({
    errno: 'EINVAL',
    message: `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`,
    insn: i,
    hint: kfunc ? `every path must release what ${kfunc} (insn ${ref.insn}) returned (bpf_task_release(), bpf_cgroup_release(), ...) before returning, unless it is NULL`
      : `every path must pass the memory from bpf_ringbuf_reserve (insn ${ref.insn}) to bpf_ringbuf_submit or bpf_ringbuf_discard before returning`,
    rule: kfunc ? `a reference acquired by ${kfunc} is not released on this path` : 'a ring buffer reservation is not released on this path',
  });
}

export function rangeText(r: Reg): string {
  let t = '';
  if (r.s.smin > -(1n << 63n)) t += ` smin=${r.s.smin}`;
  if (r.s.smax < (1n << 63n) - 1n) t += ` smax=${r.s.smax}`;
  return t || ' unknown scalar value';
}
