/**
 * Callbacks of bpf_loop, bpf_for_each_map_elem, bpf_find_vma and
 * bpf_user_ringbuf_drain: entering the callback with the arguments the helper
 * passes (push_callback_call with set_loop_callback_state /
 * set_map_elem_callback_state / set_find_vma_callback_state /
 * set_user_ringbuf_callback_state), and its return,
 * which explores another iteration while the helper may call it again and
 * widens what the iterations change so that they converge.
 */
import { Reg, regTypeStr } from './types.js';
import { Scalar } from './scalar.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { VerifierState, STACK_MISC, STACK_SPILL, STACK_ZERO } from './state.js';
import { pushStack } from './do-check.js';
import type { CallArgMeta } from './helper-args.js';
import { frameStr } from './log.js';
import { BPF_FUNC } from '../uapi/helper-ids.js';
import { enterFunc, rangeText } from './call.js';
import { kernelStruct } from './kernel-btf.js';
import { callbackDynptr } from './dynptr.js';

/**
 * Before another callback iteration, forget what the previous iteration
 * wrote into the callers' stacks: values that changed become unknown, so
 * that the iterations converge (the kernel gets the same effect from its
 * precision tracking, which lets imprecise scalars differ).
 */
function widenCallerStacks(st: VerifierState): void {
  const entry = st.cur.callbackEntry;
  for (let k = 0; k < st.frames.length - 1; k++) {
    const f = st.frames[k]!;
    const before = entry?.[k] ?? [];
    f.stack.forEach((shared, spi) => {
      if (!shared) return;
      const s = f.slot(spi); // written below: the frame's own copy (Frame.slot)
      const b = before[spi];
      if (s.spilled && s.spilled.type === 'scalar') {
        const same = b?.spilled && b.spilled.type === 'scalar' && b.spilled.s.equals(s.spilled.s) && b.t.every((t, j) => t === s.t[j]);
        if (!same && !s.spilled.s.isUnknown()) {
          let n = 0;
          for (let j = 0; j < 8; j++) if (s.t[j] === STACK_SPILL) n++;
          s.spilled = Reg.scalar(n < 8 ? Scalar.urange(0n, (1n << BigInt(n * 8)) - 1n) : Scalar.unknown());
        }
      }
      for (let j = 0; j < 8; j++) if (s.t[j] === STACK_ZERO && b?.t[j] !== STACK_ZERO) s.t[j] = STACK_MISC;
    });
  }
}

/**
 * push_callback_call for bpf_loop, bpf_for_each_map_elem and bpf_find_vma: the path that never calls the
 * callback goes on the explorer's stack, and this one enters the callback with the arguments
 * the helper passes. Returns the callback's first instruction, or -1 when the call takes none.
 */
export function pushCallbackCall(env: Verifier, meta: CallArgMeta): number {
  const i = meta.insn, id = meta.id;
  const regs = env.regs();
  // bpf_loop calls its callback at most nr_loops (R1) times: Linux counts the calls along each path
  // (callback_depth < umax(R1) in check_helper_call) and never calls it when R1 is 0.
  const loopMax = id === BPF_FUNC.loop && regs[1]!.type === 'scalar' ? regs[1]!.s.umax : -1n;
  // Callbacks: verify the function with the arguments the helper passes.
  if ((id === BPF_FUNC.loop || id === BPF_FUNC.for_each_map_elem || id === BPF_FUNC.find_vma || id === BPF_FUNC.user_ringbuf_drain) && meta.funcTarget >= 0 && loopMax !== 0n) {
    let args: Reg[];
    if (id === BPF_FUNC.loop) args = [Reg.scalar(Scalar.urange(0n, 0xffffffffn)), regs[3]!.clone()];
    else if (id === BPF_FUNC.find_vma) args = findVmaCallbackArgs(env, regs);
    // set_user_ringbuf_callback_state: a const LOCAL dynptr over the sample, and the context
    else if (id === BPF_FUNC.user_ringbuf_drain) args = [callbackDynptr(env), regs[3]!.clone()];
    else {
      args = [Reg.ptr('map_ptr', { map: meta.mapIdx }), Reg.ptr('map_key', { map: meta.mapIdx }), Reg.ptr('map_value', { map: meta.mapIdx }), regs[3]!.clone()];
    }
    // The callback may run zero times: the path that skips it continues after the call.
    const skip = env.cur.clone();
    const sr = skip.cur.regs;
    for (let r = 1; r <= 5; r++) sr[r] = Reg.notInit();
    sr[0] = Reg.unknown();
    skip.path = { insn: i, to: i + 1, taken: false, prev: skip.path };
    pushStack(env, skip, i + 1, i);
    env.cur.path = { insn: i, to: meta.funcTarget, taken: true, prev: env.cur.path };
    const next = enterFunc(env, i, meta.funcTarget, id, args);
    const cf = env.cur.cur;
    cf.callbackIter = 1;
    cf.callbackMax = loopMax > 0n && loopMax <= 0xffffffffn ? Number(loopMax) : -1;
    return next;
  }
  return -1;
}

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
 * The exit of a callback (prepare_func_exit's callback case): r0 must be 0 or 1; another
 * iteration goes on the explorer's stack while the helper may call the callback again
 * (bpf_loop: fewer than nr_loops calls so far); this path returns to the helper's caller
 * with r0 unknown. Returns the instruction after the helper call.
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
  // The helper may call the callback again (bpf_loop: while fewer than nr_loops calls were made):
  // explore another iteration from here.
  if (f.callbackMax < 0 || f.callbackIter < f.callbackMax) {
    const again = st.clone();
    const af = again.cur;
    // A callback called a known, small number of times, not itself inside a callback, is unrolled
    // exactly, as Linux unrolls it keeping precise scalars exact; otherwise (tsbpf has no precision
    // marks on the stack to tell which values matter) widen, so that the iterations converge.
    const nested = st.frames.some((x) => x !== f && x.callbackOf !== 0);
    // (Widening is always sound: past a quarter of the instruction budget, unrolling gives way to it.)
    if (f.callbackMax < 0 || f.callbackMax > 256 || nested || env.processed > env.limit / 4) widenCallerStacks(again);
    for (let r = 0; r <= 9; r++) af.regs[r] = Reg.notInit();
    for (let r = 1; r <= 5; r++) af.regs[r] = af.callbackArgs?.[r - 1]?.clone() ?? Reg.notInit();
    af.stack = [];
    af.stackOwned = true;
    af.callbackIter++;
    again.path = { insn: i, to: af.subprog, taken: true, prev: again.path };
    pushStack(env, again, af.subprog, i);
  }
  st.frames.pop();
  const caller = st.cur;
  for (let r = 1; r <= 5; r++) caller.regs[r] = Reg.notInit();
  caller.regs[0] = Reg.unknown();
  if (env.logLevel > 0) { env.flushInsnLog(); env.log(`returning from callee:\n ${frameStr(f, env)}\nto caller at ${helperInsn + 1}:\n ${frameStr(caller, env)}`); }
  return helperInsn + 1;
}
