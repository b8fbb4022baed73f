/**
 * Reject: the verdict "refused" on one path, as a value. Every check of the
 * verifier that finds a violation throws one; verify() (index.ts) turns it
 * into the VerifierError the caller sees (error.ts), adding the log, the
 * source line and the registers' states. It plays the part of the kernel's
 * `verbose(env, ...); return -EACCES;` pairs in kernel/bpf/verifier.c.
 *
 * Its fields are named at every throw site, so that a reader sees which
 * string is the kernel's message and which is tsbpf's explanation:
 *
 *   throw new Reject({ errno: 'EACCES', message: `R${r} !read_ok`, insn: i, regs: [r],
 *     hint: 'set the register first', rule: 'a register is read before it was written' });
 */
import type { Errno } from '../errors.js';

export interface RejectFields {
  /** the errno the kernel's bpf(BPF_PROG_LOAD) returns for this violation */
  errno: Errno;
  /** the kernel's message, word for word (the last line of its log) */
  message: string;
  /** the instruction where the violation is found */
  insn: number;
  /** registers involved: their states are printed with the error */
  regs?: number[];
  /** what to change in the program, in the words of its author's source */
  hint?: string;
  /** the rule broken, in one plain sentence (default: the kernel's message) */
  rule?: string;
}

/** A violation found on some path. */
export class Reject extends Error {
  readonly errno: Errno;
  readonly kernelMessage: string;
  readonly insn: number;
  readonly regs: number[];
  readonly hint: string | undefined;
  readonly rule: string | undefined;

  constructor(f: RejectFields) {
    super(f.message);
    this.errno = f.errno;
    this.kernelMessage = f.message;
    this.insn = f.insn;
    this.regs = f.regs ?? [];
    this.hint = f.hint;
    this.rule = f.rule;
  }
}
