/**
 * The exception callback as the verifier treats it once it is found
 * (exception-cb.ts finds it; Linux 6.7+, kernel/bpf/verifier.c):
 * - add_subprog_and_kfunc makes its first instruction a function of its own
 *   (mark_subprog_exc_cb: a callback, an async one, the exception one) even
 *   when nothing refers to it (libbpf 1.3+ appends it uncalled), and check_cfg
 *   walks it as a second root (cfg.ts, `exceptionCb`);
 * - do_check_subprogs verifies it as though called, after the main program,
 *   like a global function (it must be one): do_check_common refuses any
 *   prototype but one integer argument ("exception cb only supports single
 *   integer argument"), R1 is then an unknown scalar (the cookie);
 * - check_return_code at its exit holds R0 to the program type's return range,
 *   as at the main program's exit (in_exception_callback_fn), not only to a
 *   scalar as at a global function's; with it the cookie of bpf_throw is no
 *   longer the program's return value, so the throw checks R1 only for a
 *   scalar (throw.ts);
 * - check_max_stack_depth walks it as a root of its own (its stack is not the
 *   program's), refuses a direct call of it ("insn N cannot call exception cb
 *   directly"), a bpf_throw in or below it, and a tail call below it
 *   (stack-depth.ts).
 * tsbpf does not unwind: a program that calls bpf_throw is refused at load
 * (throw.ts), so the callback never runs; a program with a callback and no
 * throw runs, and the callback is dead code.
 */
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { GlobalProto } from './global-func.js';

/** The exception callback's function index, or -1 (env.exceptionCb is its first instruction). */
function exceptionCbSubprog(env: Verifier): number {
  return env.exceptionCb === undefined ? -1 : env.cfg.subprogStarts.indexOf(env.exceptionCb);
}

/** do_check_subprogs: the callback counts as called whether or not anything calls it. */
export function markExceptionCbCalled(env: Verifier): void {
  const k = exceptionCbSubprog(env);
  const g = k > 0 ? env.globals.get(k) : undefined;
  // (bpf_find_exception_callback_insn_off accepted only a global FUNC: it is one of env.globals)
  if (g) g.called = true;
}

/** do_check_common for the exception callback: its prototype is one integer, the cookie. */
export function checkExceptionCbProto(env: Verifier, k: number, p: GlobalProto): void {
  if (k !== exceptionCbSubprog(env)) return;
  if (p.args.length !== 1 || p.args[0]!.kind !== 'scalar')
    throw new Reject({
      errno: 'EINVAL',
      message: 'exception cb only supports single integer argument',
      insn: env.exceptionCb!,
      hint: `declare the exception callback as int ${p.name}(u64 cookie)`,
      rule: 'an exception callback takes the cookie of bpf_throw, one integer, and nothing else',
    });
}

/** The function a frame runs (its first instruction) is the exception callback: its exit is the program's (check_return_code). */
export function inExceptionCb(env: Verifier, start: number): boolean {
  return start !== 0 && start === env.exceptionCb;
}
