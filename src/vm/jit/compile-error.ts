import { TsbpfError } from '../../errors.js';

/** An instruction the JIT cannot translate (validateProgram rejects all of these first). */
export class CompileError extends TsbpfError {
  constructor(
    readonly pc: number,
    reason: string,
  ) {
    super('EINVAL', `insn ${pc}: ${reason}`);
  }
}
