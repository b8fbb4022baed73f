/**
 * The error a rejected program produces: it keeps the whole kernel-style log
 * and adds what the kernel's log leaves the reader to work out: the rule
 * broken, in one sentence; the instruction and its C source line; the
 * registers involved and their states; a concrete hint; and the branch
 * decisions that led there.
 */
import { type Errno, TsbpfError } from '../errors.js';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** the source text of the line, when the object's line_info carries it */
  text?: string;
}

export interface VerifierErrorDetails {
  /** the kernel's message for the violation, e.g. "R0 invalid mem access 'map_value_or_null'" */
  kernelMessage: string;
  /** the rule broken, in one plain sentence */
  rule: string;
  insnIndex: number;
  /** the instruction, as the log prints it (`12: (79) r0 = *(u64 *)(r1 +0)`) */
  insnText?: string;
  hint?: string;
  /** registers involved, as `R1=map_value_or_null(id=1,...)` */
  registers: string[];
  /** branch decisions on the way, oldest first: `5: if r3 > r2 goto pc+14 (not taken)` */
  path: string[];
  sourceLine?: SourceLocation;
  log: string;
}

export class VerifierError extends TsbpfError {
  readonly kernelMessage: string;
  readonly rule: string;
  readonly insnIndex: number;
  readonly insnText?: string;
  readonly hint?: string;
  readonly registers: string[];
  readonly path: string[];
  readonly sourceLine?: SourceLocation;
  /** the whole verifier log */
  readonly log: string;

  constructor(errno: Errno, d: VerifierErrorDetails) {
    const where = d.sourceLine ? ` (${d.sourceLine.file}:${d.sourceLine.line}:${d.sourceLine.column})` : '';
    super(errno, `${d.rule} at insn ${d.insnIndex}${where}`);
    this.kernelMessage = d.kernelMessage;
    this.rule = d.rule;
    this.insnIndex = d.insnIndex;
    if (d.insnText !== undefined) this.insnText = d.insnText;
    if (d.hint !== undefined) this.hint = d.hint;
    this.registers = d.registers;
    this.path = d.path;
    if (d.sourceLine !== undefined) this.sourceLine = d.sourceLine;
    this.log = d.log;
  }

  /**
   * A readable multi-line report: rule, location, source, registers, hint,
   * and the last `maxPath` branch decisions of the path (default 8: a
   * rejection after a million instructions has tens of thousands; all of
   * them stay in `path` and `log`).
   */
  explain(opts: { maxPath?: number } = {}): string {
    const maxPath = opts.maxPath ?? 8;
    const lines: string[] = [];
    lines.push(`error: ${this.rule}`);
    if (this.sourceLine) {
      const s = this.sourceLine;
      lines.push(`  --> ${s.file}:${s.line}:${s.column}`);
      if (s.text) lines.push(`   | ${s.text.trim()}`);
    }
    if (this.insnText) lines.push(`  insn ${this.insnText}`);
    for (const r of this.registers) lines.push(`  ${r}`);
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    if (this.path.length) {
      const shown = this.path.length > maxPath ? this.path.slice(this.path.length - maxPath) : this.path;
      lines.push(shown.length < this.path.length ? `  path (the last ${shown.length} of ${this.path.length} branch decisions):` : '  path:');
      if (shown.length < this.path.length) lines.push(`    ... ${this.path.length - shown.length} earlier`);
      for (const p of shown) lines.push(`    ${p}`);
    }
    lines.push(`  kernel: ${this.kernelMessage.split('\n').join('\n          ')}`);
    return lines.join('\n');
  }
}
