/**
 * The assembler: source text to instruction slots.
 *
 * Two dialects:
 *  - 'kernel': the syntax of the kernel verifier log (kernel/bpf/disasm.c) and
 *    of LLVM (`r0 = *(u32 *)(r1 +4)`, `if w1 > w2 goto pc-2`, `r1 = 0x... ll`),
 *    i.e. everything {@link disassemble} prints in either dialect, plus labels.
 *    Listings can be pasted as they are: bpftool's `   3: (b7) r0 = 0` prefixes
 *    and llvm-objdump's address/byte columns and `<LBB0_2>` notes are skipped.
 *  - 'conformance': the bpf_conformance suite's `%r1` dialect.
 * 'auto' (the default) looks at the source and picks one.
 *
 * Labels (`name:`) may stand alone or before an instruction; comments start
 * with `;`, `//`, or `#` (at the start of a line or after whitespace).
 */
import { AsmError } from '../../errors.js';
import type { Insn } from '../insn.js';
import { Builder, stripComment, LABEL_RE } from './source.js';
import { conformanceImplicitLabel, conformanceLine, isConformanceMnemonic } from './conformance.js';
import { kernelLine, type KernelAsmOptions } from './kernel.js';

export type AsmDialect = 'auto' | 'kernel' | 'conformance';

export interface AsmOptions extends KernelAsmOptions {
  dialect?: AsmDialect;
}

interface SourceLine {
  line: number;
  text: string;
  labels: string[];
  body: string;
}

/** Split source into lines with comments, listing prefixes and labels taken apart. */
function readLines(source: string): SourceLine[] {
  const out: SourceLine[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    let s = stripComment(raw);
    if (s === '') return;
    // llvm-objdump headers.
    if (/^Disassembly of section /.test(s) || /:\s+file format /.test(s)) return;
    const labels: string[] = [];
    // llvm-objdump symbol line: `0000000000000000 <prog>:` names the next slot.
    let m = /^[0-9a-f]+ <([^>]+)>:$/i.exec(s);
    if (m) {
      out.push({ line: i + 1, text: raw.trim(), labels: [m[1]!], body: '' });
      return;
    }
    // Listing prefixes: `12:` (bpftool, our disasm, and llvm-objdump, which numbers
    // BPF slots in decimal), then `(b7)` opcode notes and raw byte columns. A label
    // cannot be all digits, so `f1: exit` stays a label.
    if ((m = /^(\d+):\s+(\S.*)$/.exec(s))) s = m[2]!;
    s = s.replace(/^\([0-9a-f]{2}\)\s*/i, '');
    s = s.replace(/^(?:[0-9a-f]{2}\s+){8,16}(?=\S)/i, '');
    s = s.replace(/(\S)\s+<[^<>]*>$/, '$1');
    // Labels, possibly several, possibly followed by an instruction.
    while ((m = /^([A-Za-z_.$][\w.$]*):(?:\s+|$)(.*)$/.exec(s)) && LABEL_RE.test(m[1]!)) {
      labels.push(m[1]!);
      s = m[2]!.trim();
    }
    out.push({ line: i + 1, text: raw.trim(), labels, body: s.trim() });
  });
  return out;
}

/** Guess the dialect: `%r` registers or suite mnemonics vs. `=`/`if`/`goto` statements. */
export function detectDialect(source: string): 'kernel' | 'conformance' {
  let conf = 0;
  let kern = 0;
  for (const l of readLines(source)) {
    const b = l.body;
    if (b === '') continue;
    if (/%r\d/.test(b)) return 'conformance';
    const word = b.split(/\s/)[0]!;
    if (/=/.test(b) || /^(if|goto|gotol|may_goto|lock\s+\*|store_release|nospec)\b/.test(b) || /#\d+$/.test(b)) kern++;
    else if (word !== 'exit' && word !== 'call' && word !== 'callx' && isConformanceMnemonic(word)) conf++;
  }
  return conf > kern ? 'conformance' : 'kernel';
}

/**
 * Assemble `source` into instruction slots (lddw takes two). Throws
 * {@link AsmError} with the 1-based line number and the reason.
 */
export function assemble(source: string, opts: AsmOptions = {}): Insn[] {
  return assembleListing(source, opts).insns;
}

/** What {@link assembleListing} returns: the slots, and where each source line and label landed. */
export interface AssembledListing {
  insns: Insn[];
  /** 1-based source line -> the slot of the instruction on it (lines without one are absent) */
  slotOfLine: Map<number, number>;
  /** label -> the slot it names */
  labels: Map<string, number>;
}

/**
 * {@link assemble}, also saying which slot each source line became: editors
 * (the playground) map their lines to instructions with it, for
 * breakpoints, verifier states and source-line info of edited programs.
 */
export function assembleListing(source: string, opts: AsmOptions = {}): AssembledListing {
  const slotOfLine = new Map<number, number>();
  const labels = new Map<string, number>();
  const dialect = !opts.dialect || opts.dialect === 'auto' ? detectDialect(source) : opts.dialect;
  if (dialect !== 'kernel' && dialect !== 'conformance') throw new AsmError(0, `unknown dialect '${String(dialect)}'`);
  const b = new Builder();
  if (dialect === 'conformance') b.implicitLabel = conformanceImplicitLabel;
  for (const l of readLines(source)) {
    b.line = l.line;
    b.text = l.text;
    for (const name of l.labels) {
      b.label(name);
      labels.set(name, b.insns.length);
    }
    if (l.body === '') continue;
    slotOfLine.set(l.line, b.insns.length);
    if (/^\.raw\b/i.test(l.body)) {
      raw(b, l.body);
      continue;
    }
    if (dialect === 'conformance') conformanceLine(b, l.body);
    else kernelLine(b, l.body, opts);
  }
  return { insns: b.finish(), slotOfLine, labels };
}

/**
 * `.raw 0xWORD`: one slot given as the 64-bit word of the suite's `-- raw`
 * format, imm << 32 | off << 16 | src << 12 | dst << 8 | code. The
 * disassembler prints slots it has no syntax for this way, so every byte
 * pattern round-trips.
 */
function raw(b: Builder, body: string): void {
  const m = /^\.raw\s+0x([0-9a-f]{1,16})$/i.exec(body);
  if (!m) b.fail('expected .raw 0x<64-bit word>');
  const w = BigInt(`0x${m[1]}`);
  b.emit({
    code: Number(w & 0xffn),
    dst: Number((w >> 8n) & 0xfn),
    src: Number((w >> 12n) & 0xfn),
    off: Number(BigInt.asIntN(16, w >> 16n)),
    imm: Number(BigInt.asIntN(32, w >> 32n)),
  });
}

function section(text: string, name: string): string | undefined {
  const m = new RegExp(`^-- ${name}[^\\n]*\\n([\\s\\S]*?)(?=^-- |(?![\\s\\S]))`, 'm').exec(text);
  return m ? m[1]! : undefined;
}

/**
 * The program of a bpf_conformance `.data` file: its `-- asm` section, else
 * its `-- raw` section (64-bit words, turned into `.raw` lines, which both
 * dialects read). Text without either section is returned as it is.
 */
export function dataFileSource(text: string): string {
  const asm = section(text, 'asm');
  if (asm !== undefined) return asm;
  const raw = section(text, 'raw');
  if (raw === undefined) return text;
  return raw
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((w) => `.raw ${w}`)
    .join('\n');
}
