/**
 * A program the kernel refused: a VerifierError whose `log` is the kernel's
 * verifier log, with tsbpf's own verifier's judgement of the same program
 * (same instructions, same CO-RE target, same maps) beside it: the rule in
 * one sentence, the C line, the registers and a hint, which the kernel's
 * log leaves the reader to work out.
 */
import type { Errno } from '../errors.js';
import { VerifierError, type VerifierErrorDetails } from '../verifier/error.js';
import type { Btf } from '../object/btf/index.js';
import type { CollectionSpec, ProgramSpec } from '../object/spec.js';

export class KernelVerifierError extends VerifierError {
  /** the kernel's verifier log, whole */
  readonly kernelLog: string;
  /** tsbpf's verifier on the same program: its rejection, or undefined when it accepted (the two disagree) */
  readonly tsbpf: VerifierError | undefined;
  /** when tsbpf's verifier could not judge the program, why */
  readonly tsbpfNote: string | undefined;
  constructor(
    errno: Errno,
    /** the program's name */
    readonly program: string,
    kernelLog: string,
    tsbpf: VerifierError | undefined,
    note: string | undefined,
  ) {
    const lines = kernelLog.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    // the kernel's message: the last line before the statistics ("processed N insns ...")
    const stats = lines.findIndex((l) => /^processed \d+ insns/.test(l));
    const msg = (stats > 0 ? lines[stats - 1] : lines[lines.length - 1]) ?? `BPF_PROG_LOAD failed with ${errno}`;
    let insn = -1;
    for (const l of lines.slice(0, stats > 0 ? stats : lines.length)) {
      const m = /^(\d+): \(/.exec(l);
      if (m) insn = Number(m[1]);
    }
    const d: VerifierErrorDetails = tsbpf
      ? {
          kernelMessage: msg,
          rule: tsbpf.rule,
          insnIndex: tsbpf.insnIndex,
          registers: tsbpf.registers,
          path: tsbpf.path,
          log: kernelLog,
          ...(tsbpf.insnText !== undefined ? { insnText: tsbpf.insnText } : {}),
          ...(tsbpf.hint !== undefined ? { hint: tsbpf.hint } : {}),
          ...(tsbpf.sourceLine !== undefined ? { sourceLine: tsbpf.sourceLine } : {}),
        }
      : { kernelMessage: msg, rule: `the kernel's verifier rejected program ${program}: ${msg}`, insnIndex: insn, registers: [], path: [], log: kernelLog };
    super(errno, d);
    this.kernelLog = kernelLog;
    this.tsbpf = tsbpf;
    this.tsbpfNote = note ?? (tsbpf ? undefined : "tsbpf's verifier accepts this program: the two verifiers disagree");
    this.message = `program ${program}: the kernel's verifier said "${msg}"` + (tsbpf ? `; tsbpf: ${tsbpf.message}` : this.tsbpfNote ? `; ${this.tsbpfNote}` : '');
  }

  /** The kernel's message, then tsbpf's explanation of the same program. */
  override explain(): string {
    const out = [`kernel: ${this.kernelMessage}`];
    if (this.tsbpf) out.push(`tsbpf's verifier on the same program:\n${this.tsbpf.explain()}`);
    else if (this.tsbpfNote) out.push(`tsbpf: ${this.tsbpfNote}`);
    return out.join('\n');
  }
}

/** Run tsbpf's verifier on the program the kernel refused (lazily imported: it is large). */
export async function explainRejection(errno: Errno, coll: CollectionSpec, ps: ProgramSpec, kernelLog: string, vmlinux: Btf | undefined): Promise<KernelVerifierError> {
  try {
    const v = await import('../verifier/index.js');
    const { inputFromSpec } = await import('../verifier/spec-input.js');
    const input = inputFromSpec(coll, ps, { privileged: true, logLevel: 1, ...(vmlinux ? { coreTarget: vmlinux, kernelBtf: vmlinux } : {}) });
    const r = v.verify(input);
    return new KernelVerifierError(errno, ps.name, kernelLog, r.ok ? undefined : r.error, r.ok ? undefined : r.error ? undefined : r.log.split('\n').filter(Boolean).pop());
  } catch (e) {
    return new KernelVerifierError(errno, ps.name, kernelLog, undefined, `tsbpf's verifier could not judge it: ${(e as Error).message}`);
  }
}
