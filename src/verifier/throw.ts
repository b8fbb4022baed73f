/**
 * bpf_throw(u64 cookie) (Linux 6.7+, kernel/bpf/helpers.c): the kfunc that
 * unwinds the whole program at once. With no exception callback the program
 * returns the cookie; with one (`__exception_cb(NAME)`, exception-cb.ts,
 * verified as exception-entry.ts says) the callback runs with the cookie and
 * its return value is the program's.
 *
 * The verifier's side, as Linux 6.18 judges it:
 * - check_kfunc_call: the cookie is a scalar argument; with the default
 *   callback it becomes the program's return value, so check_return_code
 *   holds R1 to the program type's return range (a global function being
 *   verified on its own only needs a scalar there; with an exception callback
 *   any scalar will do);
 * - do_check's exceptional exit (process_bpf_exit_full with exception_exit):
 *   no bpf_spin_lock, RCU read section or preemption-disabled section may be
 *   open, and no reference may be held in any frame (check_resource_leak);
 *   the path then ends, without prepare_func_exit or the R0 check;
 * - check_max_stack_depth: no bpf_throw in a callback or anything a callback
 *   calls (stack-depth.ts, `isThrow`).
 *
 * At run time tsbpf does not unwind: bpf_throw's runtime is 'none' (kfuncs.ts),
 * so the loader refuses a program that calls it with ENOTSUPP naming the kfunc.
 */
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { regTypeStr } from './types.js';
import { rangeText, unreleasedRef } from './call.js';
import { checkNoLock } from './spin-lock.js';

export const BPF_THROW = 'bpf_throw';

/** check_kfunc_call for bpf_throw, then the exceptional exit: -1 (the path ends here). */
export function checkThrow(env: Verifier, i: number): number {
  // check_kfunc_args: the cookie is a scalar (an unwritten register is not one either)
  const cookie = env.regs()[1]!;
  if (cookie.type !== 'scalar')
    throw new Reject({ errno: 'EINVAL', message: 'R1 is not a scalar', insn: i, regs: [1], hint: 'pass the cookie, a number, in r1', rule: 'bpf_throw takes a u64 cookie' });
  // (with an exception callback the cookie is its argument: exception-entry.ts)
  checkCookie(env, i);
  const st = env.cur;
  checkNoLock(env, i, BPF_THROW);
  // check_resource_leak(exception_exit): no section the unwinding would skip the end of
  for (const [open, section, close] of [[st.rcuLock, 'bpf_rcu_read_lock', 'bpf_rcu_read_unlock'], [st.preemptLock > 0, 'bpf_preempt_disable', 'bpf_preempt_enable']] as const)
    if (open)
      throw new Reject({
        errno: 'EINVAL',
        message: `${BPF_THROW} cannot be used inside ${section}-ed region`,
        insn: i,
        hint: `call ${close}() before throwing`,
        rule: `bpf_throw inside a ${section}() section`,
      });
  // check_reference_leak(exception_exit): every frame's references, a callee's too
  if (st.refs.length) {
    // (Linux 6.18's words: "Unreleased reference id=N alloc_insn=M\nbpf_throw would lead to reference leak")
    const r = unreleasedRef(env, i);
    throw new Reject({
      errno: r.errno,
      message: r.kernelMessage.replace('BPF_EXIT instruction in main prog', BPF_THROW),
      insn: i,
      ...(r.hint ? { hint: r.hint } : {}),
      ...(r.rule ? { rule: `${r.rule} when it throws` } : {}),
    });
  }
  return -1;
}

/**
 * check_return_code(env, BPF_REG_1, "R1") for the default exception callback: the cookie is
 * what the program returns. Linux asks it of frame 0, so a throw in a static function called
 * by the main program is held to the program's range too.
 */
function checkCookie(env: Verifier, i: number): void {
  const st = env.cur;
  const r1 = env.readReg(1);
  // with an exception callback the cookie is the callback's argument, not the program's return value
  if (env.exceptionCb !== undefined) return;
  if (st.frames[0]!.subprog !== 0) {
    if (r1.type !== 'scalar')
      throw new Reject({
        errno: 'EINVAL',
        message: `At subprogram exit the register R1 is not a scalar value (${regTypeStr(r1)})`,
        insn: i,
        regs: [1],
      });
    return;
  }
  if (env.rules.retUnchecked) return;
  if (r1.isPointer && !env.privileged)
    throw new Reject({ errno: 'EACCES', message: 'R1 leaks addr as return value', insn: i, regs: [1], hint: 'throw a number, not a pointer' });
  const range = env.rules.retRange;
  if (!range) return;
  if (r1.type !== 'scalar')
    throw new Reject({ errno: 'EINVAL', message: `At program exit the register R1 is not a known value (${regTypeStr(r1)})`, insn: i, regs: [1] });
  const [lo, hi] = env.rules.retRange32 ? [BigInt(r1.s.s32min), BigInt(r1.s.s32max)] : [r1.s.smin, r1.s.smax];
  if (lo < BigInt(range[0]) || hi > BigInt(range[1]))
    throw new Reject({
      errno: 'EINVAL',
      message: `At program exit the register R1 has${rangeText(r1)} should have been in [${range[0]}, ${range[1]}]`,
      insn: i,
      regs: [1],
      hint: `throw a cookie in [${range[0]}, ${range[1]}]: without an exception callback it is the program's return value`,
      rule: `${env.rules.name} programs must return a value in [${range[0]}, ${range[1]}]`,
    });
}
