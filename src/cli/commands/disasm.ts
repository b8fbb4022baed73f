/**
 * `tsbpf disasm FILE [--dialect kernel|llvm] [--hex] [--alu32] [-j]`: print a
 * program as bpftool's `prog dump xlated` does (`   0: (b7) r0 = 0`), or in
 * llvm-objdump's layout with `--dialect llvm`.
 *
 * FILE is raw bytecode (a multiple of 8 bytes), a text file of hex bytes
 * (the conformance suite's bytecode/*.hex, `tsbpf asm` output), a
 * conformance test (.data: its -- asm or -- raw section), or an ELF
 * object (it starts with \x7fELF): then every program is listed under its
 * name, with the map or kfunc each relocated instruction refers to as a
 * comment, and the C source lines of BTF line_info as `; ...` lines before
 * the instructions they produced (as bpftool prints them). The listing
 * re-assembles: comments are skipped.
 */
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS, type OptionSpec, jsonText } from '../args.js';
import { readBounded } from '../../bounded-read.js';
import { decode, fromHex, toHex, type Insn } from '../../isa/insn.js';
import { disassembleLines, jumpTargets, type DisasmDialect, type DisasmOptions } from '../../isa/disasm.js';
import { assemble, dataFileSource } from '../../isa/asm.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  dialect: { type: 'string' },
  hex: { type: 'boolean' },
  alu32: { type: 'boolean' },
  'no-source': { type: 'boolean' },
  labels: { type: 'boolean' },
};

export const usage = `Usage: tsbpf disasm FILE [--dialect kernel|llvm] [--hex] [--alu32] [--no-source] [--labels] [-j|-p]
  FILE ('-': standard input): raw bytecode, hex text, a conformance .data test, or an ELF object file.
  --dialect kernel (default: bpftool's prog dump xlated) or llvm (llvm-objdump's)
  --hex    also print each instruction's bytes
  --alu32  llvm dialect: as llvm-objdump --mcpu=v3 prints (w registers in 32-bit stores)
  --no-source  objects: leave out the C source lines (from BTF line_info)
  --labels     kernel dialect: jump and call targets as labels L<slot> instead of pc+N
`;

interface Listing {
  name?: string;
  section?: string;
  insns: Insn[];
  notes: Map<number, string>;
  /** source lines from BTF line_info, by slot (printed before the instruction, as bpftool does) */
  source?: Map<number, string>;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

async function loadListings(bytes: Uint8Array): Promise<Listing[]> {
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    let readObject: (b: Uint8Array) => import('../../object/spec.js').CollectionSpec;
    try {
      ({ readObject } = (await import('../../object/reader.js')) as {
        readObject: typeof readObject;
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
        throw new TsbpfError('EOPNOTSUPP', 'reading ELF objects is not available in this build (src/object/reader.ts is missing)');
      throw e;
    }
    const spec = readObject(bytes);
    return [...spec.programs.values()].map((p) => {
      const notes = new Map<number, string>();
      for (const r of p.references) {
        if (r.kind === 'map') notes.set(r.index, `map ${r.map}`);
        else if (r.kind === 'map_value') notes.set(r.index, `map ${r.map} value`);
        else if (r.kind === 'kfunc' || r.kind === 'btf_id') notes.set(r.index, `${r.kind} ${r.symbol ?? ''}`.trim());
      }
      const source = new Map<number, string>();
      for (const li of p.lineInfo ?? []) if (li.line.trim()) source.set(li.insnOff, li.line.trim());
      return { name: p.name, section: p.section, insns: p.insns, notes, source };
    });
  }
  // Hex text: only hex digits, 0x prefixes, separators.
  const text = Buffer.from(bytes).toString('latin1');
  // A conformance .data test: its -- asm or -- raw section.
  if (/^-- (asm|raw)\b/m.test(text)) return [{ insns: assemble(dataFileSource(text)), notes: new Map() }];
  if (/^[\s0-9a-fA-Fx,]*$/.test(text) && /[0-9a-fA-F]/.test(text)) return [{ insns: fromHex(text), notes: new Map() }];
  if (bytes.length % 8 !== 0)
    throw new TsbpfError('EINVAL', `raw bytecode must be a multiple of 8 bytes, got ${bytes.length}`);
  return [{ insns: decode(bytes), notes: new Map() }];
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length !== 1) throw new CliUsageError('expected one input FILE');
  const dialect = (values.dialect ?? 'kernel') as DisasmDialect;
  if (dialect !== 'kernel' && dialect !== 'llvm') throw new CliUsageError('--dialect must be kernel or llvm');
  // with the program limit (64 MiB: eight times the bytecode of a million instructions), objects too
  const bytes = readBounded(positionals[0] === '-' ? 0 : positionals[0]!, { kind: 'program' });
  const listings = await loadListings(bytes);
  const opts: DisasmOptions = { dialect, alu32: values.alu32 === true };

  if (values.json) {
    const out = listings.map((l) => ({
      ...(l.name !== undefined ? { name: l.name, section: l.section } : {}),
      insns: disassembleLines(l.insns, opts).map((d) => ({
        index: d.index,
        code: d.code,
        bytes: toHex(l.insns.slice(d.index, d.index + d.slots), ''),
        text: d.text,
        ...(l.notes.has(d.index) ? { note: l.notes.get(d.index) } : {}),
      })),
    }));
    process.stdout.write(jsonText(l1(out), values.pretty));
    return 0;
  }

  const lines: string[] = [];
  for (const l of listings) {
    let lastSource: string | undefined;
    if (l.name !== undefined) {
      if (lines.length) lines.push('');
      lines.push(`; section ${l.section}`, `${l.name}:`);
    }
    const targets = values.labels && dialect === 'kernel' ? jumpTargets(l.insns) : new Set<number>();
    const lopts: DisasmOptions = targets.size ? { ...opts, labelOf: (t) => (targets.has(t) ? `L${t}` : undefined) } : opts;
    for (const d of disassembleLines(l.insns, lopts)) {
      if (targets.has(d.index)) lines.push(`L${d.index}:`);
      const src = l.source?.get(d.index);
      if (src !== undefined && src !== lastSource && !values['no-source']) lines.push(`; ${src}`);
      if (src !== undefined) lastSource = src;
      const hex = toHex(l.insns.slice(d.index, d.index + d.slots));
      const note = l.notes.has(d.index) ? `\t; ${l.notes.get(d.index)}` : '';
      // A slot printed as two `.raw` lines (an lddw with no syntax) keeps one line per slot.
      d.text.split('\n').forEach((t, k) => {
        const idx = d.index + k;
        if (dialect === 'llvm') {
          lines.push(`${String(idx).padStart(8)}:\t${hex}\t${t}${note}`);
        } else {
          const code = t.startsWith('.raw') ? '' : `(${d.code.toString(16).padStart(2, '0')}) `;
          lines.push(`${String(idx).padStart(4)}: ${code}${t}${note}`);
          if (values.hex && k === 0) lines.push(`      ${hex}`);
        }
      });
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** A single program prints as one object, several as an array. */
function l1<T>(a: T[]): T | T[] {
  return a.length === 1 ? a[0]! : a;
}
