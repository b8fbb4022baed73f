/**
 * Callbacks of bpf_loop, bpf_for_each_map_elem, bpf_find_vma and
 * bpf_user_ringbuf_drain: entering the callback with the arguments the helper
 * passes (push_callback_call with set_loop_callback_state /
 * set_map_elem_callback_state / set_find_vma_callback_state /
 * set_user_ringbuf_callback_state), and its return to the helper call, which
 * calls it again until an iteration converges (Linux 6.8's "verify callbacks
 * as if they are called unknown number of times").
 */
import { Reg, regTypeStr } from './types.js';
import { Scalar } from './scalar.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { pushStack } from './do-check.js';
import type { CallArgMeta } from './helper-args.js';
import { frameStr } from './log.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { enterFunc, rangeText } from './call.js';
import { findPrevEntry, widenImpreciseScalars } from './iter.js';
import { kernelStruct } from './kernel-btf.js';
import { callbackDynptr } from './dynptr.js';

/**
 * push_callback_call for bpf_loop, bpf_for_each_map_elem, bpf_find_vma and
 * bpf_user_ringbuf_drain: a state that enters the callback with the arguments the helper passes
 * goes on the explorer's stack, and this path goes on after the call (the callback may run zero
 * times). The callback's exit comes back to this call (callbackReturn), which pushes another
 * entry while the helper may call it again: is_state_visited's checkpoint at the call
 * (do-check.ts) ends the iterations once one is contained in an earlier one still being explored.
 */
export function pushCallbackCall(env: Verifier, meta: CallArgMeta): void {
  const i = meta.insn, id = meta.id;
  if (meta.funcTarget < 0 || !(id === BPF_FUNC.loop || id === BPF_FUNC.for_each_map_elem || id === BPF_FUNC.find_vma || id === BPF_FUNC.user_ringbuf_drain)) return;
  const st = env.cur;
  const caller = st.cur;
  const regs = caller.regs;
  // bpf_loop calls its callback at most nr_loops (R1) times: the calls made along this path are
  // counted (check_helper_call: callback_depth < umax(R1)), and never when R1 is 0.
  if (id === BPF_FUNC.loop && !(regs[1]!.type === 'scalar' && BigInt(caller.callbackDepth) < regs[1]!.s.umax)) {
    caller.callbackDepth = 0;
    if (env.logLevel > 1) env.log(`frame${st.frames.length - 1} bpf_loop iteration limit reached`);
    return;
  }
  let args: Reg[];
  if (id === BPF_FUNC.loop) args = [Reg.scalar(Scalar.urange(0n, 0xffffffffn)), regs[3]!.clone()];
  else if (id === BPF_FUNC.find_vma) args = findVmaCallbackArgs(env, regs);
  // set_user_ringbuf_callback_state: a const LOCAL dynptr over the sample, and the context
  else if (id === BPF_FUNC.user_ringbuf_drain) args = [callbackDynptr(env), regs[3]!.clone()];
  else {
    args = [Reg.ptr('map_ptr', { map: meta.mapIdx }), Reg.ptr('map_key', { map: meta.mapIdx }), Reg.ptr('map_value', { map: meta.mapIdx }), regs[3]!.clone()];
  }
  pushCallbackEntry(env, i, meta.funcTarget, id, args);
}

/**
 * push_callback_call's entry for a callback `target` the call at `i` makes (callbackOf: the helper
 * id, or a kfunc's pseudo id, RBTREE_ADD_CB) with the arguments `args`.
 */
export function pushCallbackEntry(env: Verifier, i: number, target: number, callbackOf: number, args: Reg[]): void {
  const st = env.cur;
  const caller = st.cur;
  // The entry keeps the caller's registers as they are at the call (the arguments included):
  // the callback's exit comes back to this call with them.
  const entry = st.clone();
  env.cur = entry;
  try {
    enterFunc(env, i, target, callbackOf, args);
  } finally {
    env.cur = st;
  }
  entry.callbackUnrollDepth++;
  entry.frames[entry.frames.length - 2]!.callbackDepth++;
  caller.callbackDepth = 0;
  entry.path = { insn: i, to: target, taken: true, prev: entry.path };
  pushStack(env, entry, target, i);
}

/** Frame.callbackOf of bpf_rbtree_add_impl's `less` callback (helper ids are positive). */
export const RBTREE_ADD_CB = -2;

/**
 * set_find_vma_callback_state: the callback gets find_vma's task (the caller's R1), the VMA
 * found (a plain struct vm_area_struct pointer, never NULL) and the callback context (the
 * caller's R4).
 */
function findVmaCallbackArgs(env: Verifier, regs: Reg[]): Reg[] {
  const vma = kernelStruct(env, 'vm_area_struct', env.idx, 'bpf_find_vma passes a struct vm_area_struct, which the kernel BTF given lacks');
  return [regs[1]!.clone(), Reg.ptr('btf_id', { btfId: vma.id, btfName: 'vm_area_struct' }), regs[4]!.clone()];
}

/**
 * The exit of a callback (prepare_func_exit's callback case): r0 must be 0 or 1; the path goes
 * back to the helper call, which may call the callback again (pushCallbackCall) or go on after
 * it. Scalars that differ from the previous iteration's entry at that call, where their value
 * cannot matter (static precision), are forgotten (widen_imprecise_scalars), so that the
 * iterations converge. Returns the helper call's instruction.
 */
export function callbackReturn(env: Verifier, r0: Reg): number {
  const i = env.idx;
  const st = env.cur;
  const f = st.cur;
  if (r0.type !== 'scalar' || r0.s.smin < 0n || r0.s.smax > 1n) {
    const has = r0.type !== 'scalar' ? ` is not a known value (${regTypeStr(r0)})` : rangeText(r0);
    throw new Reject({
      errno: 'EINVAL',
      message: r0.type !== 'scalar' ? `At callback return the register R0${has}` : `At callback return the register R0 has${has} should have been in [0, 1]`,
      insn: i,
      regs: [0],
      hint: 'return 0 to continue the iteration or 1 to stop it',
      rule: 'a callback must return 0 or 1',
    });
  }
  const helperInsn = f.callsite;
  st.frames.pop();
  const caller = st.cur;
  if (env.logLevel > 0) { env.flushInsnLog(); env.log(`returning from callee:\n ${frameStr(f, env)}\nto caller at ${helperInsn}:\n ${frameStr(caller, env)}`); }
  // widen_imprecise_scalars against the previous iteration's entry at the call. Linux's precision
  // is learned along the path; tsbpf's is static and counts a callback's context stored back
  // through its pointer as precise. So a first run widens every scalar that changed (always
  // sound: only exactness is lost), and when that run rejects after widening a precise one,
  // verify() runs again with env.callbackExact: then only imprecise ones are widened, and
  // bpf_loop with a small known bound, not inside another callback and within a quarter of the
  // budget, is unrolled exactly, as Linux unrolls a loop whose precise values change.
  const prev = findPrevEntry(env, helperInsn, false);
  if (prev) {
    env.idx = helperInsn;
    const r1 = caller.regs[1]!;
    const loopBound = f.callbackOf === BPF_FUNC.loop && r1.type === 'scalar' ? r1.s.umax : -1n;
    // (bpf_loop's last call: no iteration follows to converge, precise values stay exact)
    const last = loopBound >= 0n && BigInt(caller.callbackDepth) >= loopBound;
    if (last) widenImpreciseScalars(env, prev.state, st);
    else if (!env.callbackExact) {
      if (widenImpreciseScalars(env, prev.state, st, true)) env.callbackWidenedPrecise = true;
    } else {
      const exact = loopBound >= 0n && loopBound <= 256n && env.processed <= env.limit / 4 && !st.frames.some((x) => x.callbackOf !== 0);
      widenImpreciseScalars(env, prev.state, st, !exact);
    }
    env.idx = i;
  }
  return helperInsn;
}
