/**
 * __check_ptr_off_reg (kernel/bpf/verifier.c), what check_func_arg_reg_off asks of a pointer
 * handed to a helper, kfunc or global function: not before its object, at its start unless a
 * fixed offset is allowed (fixed_off_ok: a PTR_TO_BTF_ID argument may point into its struct),
 * and no variable offset. One place for the three checks and their messages; each caller
 * reports the message its own way.
 */
import { regTypeStr, type Reg } from './types.js';
import { Reject } from './reject.js';
import { tnumStr } from './tnum.js';

/** The kernel's message for the first of the checks that fails (all EACCES), or undefined. */
export function ptrOffFault(reg: Reg, r: number, fixedOffOk: boolean): string | undefined {
  if (reg.off < 0) return `negative offset ${regTypeStr(reg)} ptr R${r} off=${reg.off} disallowed`;
  if (!fixedOffOk && reg.off) return `dereference of modified ${regTypeStr(reg)} ptr R${r} off=${reg.off} disallowed`;
  if (!reg.s.isConst() || reg.s.varOff.value !== 0n) return `variable ${regTypeStr(reg)} access var_off=${tnumStr(reg.s.varOff)} disallowed`;
  return undefined;
}

/** __check_ptr_off_reg with fixed_off_ok false, for register `r` of the call at `insn` (helpers and kfuncs). */
export function checkPtrUnmoved(insn: number, r: number, reg: Reg): void {
  const message = ptrOffFault(reg, r, false);
  if (message) throw new Reject({ errno: 'EACCES', message, insn, regs: [r] });
}
