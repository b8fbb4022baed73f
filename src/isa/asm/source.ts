/**
 * What both assembler dialects share: reading source lines (comments, labels,
 * the line-number and opcode prefixes of disassembler listings), numbers and
 * registers, and a builder that places instructions and resolves label
 * references in a second pass.
 */
import { AsmError } from '../../errors.js';
import { insn, type Insn } from '../insn.js';

/** A reference to a jump or call target: relative (`+3`, `pc-2`) or by label. */
export type Target = { rel: number } | { label: string };

interface Fixup {
  slot: number;
  field: 'off' | 'imm';
  label: string;
  line: number;
  text: string;
}

export const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;

/**
 * Collects instruction slots and labels. Labels name the slot index of the
 * next instruction, so a label may be referenced before it is defined; jumps
 * are resolved in {@link finish} as `target - (slot + 1)` (RFC 9669 4.3:
 * offsets count instructions from the one after the jump).
 */
export class Builder {
  readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  line = 0;
  text = '';
  /**
   * Resolves a label that is never defined (the conformance dialect's
   * implicit `exit`); returns the target slot or undefined.
   */
  implicitLabel?: (name: string, fromSlot: number, insns: readonly Insn[]) => number | undefined;

  fail(reason: string): never {
    throw new AsmError(this.line, reason, this.text);
  }

  label(name: string): void {
    if (this.labels.has(name)) this.fail(`label '${name}' defined twice`);
    this.labels.set(name, this.insns.length);
  }

  hasLabel(name: string): boolean {
    return this.labels.has(name);
  }

  /** Append one slot; `target` (if any) fills `field` now or once the label is known. */
  emit(ins: Insn, field?: 'off' | 'imm', target?: Target): void {
    const slot = this.insns.length;
    if (field && target) {
      if ('rel' in target) {
        if (field === 'off') ins.off = checkRange(this, target.rel, -0x8000, 0x7fff, 'jump offset');
        else ins.imm = checkRange(this, target.rel, -0x80000000, 0x7fffffff, 'jump offset');
      } else {
        this.fixups.push({ slot, field, label: target.label, line: this.line, text: this.text });
      }
    }
    this.insns.push(ins);
  }

  finish(): Insn[] {
    for (const f of this.fixups) {
      const at = this.labels.get(f.label) ?? this.implicitLabel?.(f.label, f.slot, this.insns);
      if (at === undefined) throw new AsmError(f.line, `undefined label '${f.label}'`, f.text);
      const rel = at - (f.slot + 1);
      const ins = this.insns[f.slot]!;
      if (f.field === 'off') {
        if (rel < -0x8000 || rel > 0x7fff)
          throw new AsmError(f.line, `jump to '${f.label}' is out of 16-bit range (${rel}); use gotol`, f.text);
        ins.off = rel;
      } else {
        ins.imm = rel;
      }
    }
    return this.insns;
  }
}

function checkRange(b: Builder, v: number, lo: number, hi: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) b.fail(`${what} ${v} out of range [${lo}, ${hi}]`);
  return v;
}

/** Remove a comment: `;` or `//` anywhere, `#` at the start or after whitespace (not `call f#1`). */
export function stripComment(line: string): string {
  let s = line;
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  const slashes = s.indexOf('//');
  if (slashes >= 0) s = s.slice(0, slashes);
  const hash = s.search(/(^|\s)#/);
  if (hash >= 0) s = s.slice(0, hash);
  return s.trim();
}

/**
 * Parse an integer literal: decimal or `0x` hex, optionally signed. Returns a
 * bigint so 64-bit immediates keep every bit; undefined if `s` is not a number.
 */
export function parseBig(s: string): bigint | undefined {
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(s.trim());
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  return m[1] === '-' ? -v : v;
}

/** An immediate for a 32-bit field: signed, or unsigned up to 0xffffffff when `allowU32` (wraps). */
export function imm32(b: Builder, s: string, allowU32 = true): number {
  const v = parseBig(s);
  if (v === undefined) b.fail(`expected a number, got '${s}'`);
  const hi = allowU32 ? 0xffffffffn : 0x7fffffffn;
  if (v < -0x80000000n || v > hi) b.fail(`immediate ${s} does not fit in 32 bits`);
  return Number(BigInt.asIntN(32, v));
}

/** A 16-bit signed offset. */
export function off16(b: Builder, s: string): number {
  const v = parseBig(s);
  if (v === undefined) b.fail(`expected an offset, got '${s}'`);
  if (v < -0x8000n || v > 0x7fffn) b.fail(`offset ${s} does not fit in 16 bits`);
  return Number(v);
}

/** A 64-bit immediate (lddw): any value in [-2^63, 2^64). */
export function imm64(b: Builder, s: string): bigint {
  const v = parseBig(s);
  if (v === undefined) b.fail(`expected a 64-bit number, got '${s}'`);
  if (v < -(1n << 63n) || v >= 1n << 64n) b.fail(`immediate ${s} does not fit in 64 bits`);
  return BigInt.asUintN(64, v);
}

/** A jump target: `+N`, `-N`, `N`, `pc+N`, `pc-N` (relative), or a label (labels never start with a digit). */
export function parseTarget(b: Builder, s: string): Target {
  const t = s.trim();
  const m = /^(?:pc)?([+-]?(?:0x[0-9a-f]+|\d+))$/i.exec(t);
  if (m) return { rel: Number(parseBig(m[1]!)) };
  if (LABEL_RE.test(t)) return { label: t };
  return b.fail(`bad jump target '${s}'`);
}

export { insn };
