/**
 * Typed run-time errors of the execution engines.
 *
 * A program that runs unverified (or a verifier bug) can do things a verified
 * program never does: touch memory outside any object, loop forever, recurse
 * too deep, call a helper that does not exist. Each of these ends the run with
 * one of the errors below — never a JavaScript exception from deep inside the
 * engine, and never a hang. The interpreter and the JIT throw the same classes
 * so callers handle both engines alike.
 */
import { TsbpfError, type Errno } from '../errors.js';
import type { Region } from '../memory/address-space.js';

/** Base class: something went wrong while a program was running, at instruction `pc`. */
export class ExecError extends TsbpfError {
  constructor(
    errno: Errno,
    /** index of the instruction slot that failed (-1 when unknown) */
    readonly pc: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(errno, message, options);
  }
}

export type AccessKind = 'read' | 'write';

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

function describeRegion(r: Region): string {
  return `${r.kind} '${r.name}' [${hex(r.base)}, ${hex(r.base + r.size)})${r.writable ? '' : ' read-only'}`;
}

/**
 * An invalid memory access: outside the address space, or (in checked mode)
 * outside every registered region, or a write to a read-only region. Like the
 * kernel's page fault in a BPF program, it carries EFAULT.
 */
export class VmFault extends ExecError {
  constructor(
    pc: number,
    /** the effective 64-bit address the instruction computed */
    readonly address: bigint,
    /** bytes accessed */
    readonly size: number,
    readonly access: AccessKind,
    /** the region containing the start of the access, or else the nearest one */
    readonly region: Region | undefined,
    /** why the access was refused */
    readonly reason: string,
  ) {
    const where = region ? `; ${region.base <= address && address < region.base + region.size ? 'in' : 'nearest'} ${describeRegion(region)}` : '';
    super('EFAULT', pc, `insn ${pc}: invalid ${access} of ${size} byte${size === 1 ? '' : 's'} at ${hex(address)}: ${reason}${where}`);
  }
}

/** The instruction budget ran out (a program run without verification that does not terminate). */
export class BudgetExceeded extends ExecError {
  constructor(
    pc: number,
    /** the budget the run started with */
    readonly budget: number,
  ) {
    super('E2BIG', pc, `insn ${pc}: instruction budget of ${budget} exhausted`);
  }
}

/**
 * A run passed its deadline (RunArgs.deadline / RuntimeOptions.runDeadline):
 * it was stopped at instruction `pc` (the check at a loop head, a function
 * entry or a slice boundary) and its r0 is lost. ETIME, "timer expired".
 */
export class RunDeadlineExceeded extends ExecError {
  constructor(
    pc: number,
    /** which limit was reached */
    readonly limit: 'instructions' | 'time',
    /** the deadline the run had */
    readonly deadline: { instructions?: number; ms?: number },
  ) {
    super(
      'ETIME',
      pc,
      limit === 'instructions'
        ? `insn ${pc}: run deadline of ${deadline.instructions} instructions exceeded`
        : `insn ${pc}: run deadline of ${deadline.ms} ms exceeded`,
    );
  }
}

/** A bpf-to-bpf call (or a callback) would need a ninth frame (kernel: MAX_CALL_FRAMES = 8). */
export class CallDepthExceeded extends ExecError {
  constructor(
    pc: number,
    readonly frames: number,
  ) {
    super('E2BIG', pc, `insn ${pc}: the call stack of ${frames} frames is too deep`);
  }
}

/** A `call` or `callx` naming a helper id the registry does not hold. */
export class UnknownHelper extends ExecError {
  constructor(
    pc: number,
    readonly helperId: number,
  ) {
    super('EINVAL', pc, `insn ${pc}: invalid func unknown#${helperId}`);
  }
}

/** A helper threw: the run stops and the helper's error is kept as the cause. */
export class HelperError extends ExecError {
  constructor(
    pc: number,
    readonly helperId: number,
    readonly helperName: string,
    cause: unknown,
  ) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(cause instanceof TsbpfError ? cause.errno : 'EINVAL', pc, `insn ${pc}: helper ${helperName}#${helperId} failed: ${inner}`, { cause });
  }
}

/** An instruction the engine cannot execute as given (an unresolved lddw pseudo source, a kfunc call). */
export class UnsupportedInsn extends ExecError {
  constructor(pc: number, reason: string) {
    super('EINVAL', pc, `insn ${pc}: ${reason}`);
  }
}
