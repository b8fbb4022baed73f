/**
 * `tsbpf asm FILE [-o OUT] [--dialect auto|kernel|conformance]`: assemble a
 * program. Without -o, print one instruction per line as hex bytes; with
 * `-o OUT.bin` (any name not ending in .o) write the raw little-endian
 * bytecode; with `-o OUT.o` write an ELF relocatable object holding the
 * program (via the object layer's writer).
 *
 * FILE may be `-` for standard input. A bpf_conformance `.data` file is
 * accepted as it is: its `-- asm` (or `-- raw`) section is the program.
 */
import { basename } from 'node:path';
import { CliUsageError, parse, JSON_OPTS, type OptionSpec } from '../args.js';
import { readBounded, writeOutput } from '../../bounded-read.js';
import { assemble, dataFileSource, type AsmDialect } from '../../isa/asm.js';
import { encode, toHex, type Insn } from '../../isa/insn.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  output: { type: 'string', short: 'o' },
  dialect: { type: 'string' },
  section: { type: 'string' },
};

export const usage = `Usage: tsbpf asm FILE [-o|--output OUT] [--dialect auto|kernel|conformance] [--section NAME] [-j|-p]
  Assembles FILE ('-': standard input; kernel verifier-log / LLVM syntax, or the
  conformance suite's %r dialect; a conformance .data test's -- asm section).
  Without -o: one instruction per line as hex bytes (-j: {"insns":[hex...]}).
  -o OUT.bin (any name not ending in .o): raw little-endian bytecode.
  -o OUT.o: an ELF object Linux loads (program section NAME, default "socket").
  --dialect   which syntax FILE is in (default auto: detected)
`;

const DIALECTS: readonly AsmDialect[] = ['auto', 'kernel', 'conformance'];

function readInput(file: string): string {
  return new TextDecoder().decode(readBounded(file === '-' ? 0 : file, { kind: 'program' }));
}

/** Loaded only for `-o X.o`, so plain assembly does not load the object layer. */
async function writeElf(out: string, insns: Insn[], section: string, name: string): Promise<void> {
  const { writeObject } = await import('../../object/writer.js');
  writeOutput(out, writeObject({ programs: [{ name, section, insns }], license: 'GPL' }));
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length !== 1) throw new CliUsageError('expected one input FILE');
  const dialect = (values.dialect ?? 'auto') as AsmDialect;
  if (!DIALECTS.includes(dialect)) throw new CliUsageError(`--dialect must be one of ${DIALECTS.join('|')}`);
  const file = positionals[0]!;
  const insns = assemble(dataFileSource(readInput(file)), { dialect });
  const out = values.output as string | undefined;
  if (out !== undefined) {
    if (out.endsWith('.o')) {
      const name = (file === '-' ? 'prog' : basename(file).replace(/\.[^.]*$/, '')).replace(/[^A-Za-z0-9_]/g, '_') || 'prog';
      await writeElf(out, insns, (values.section as string | undefined) ?? 'socket', name);
    } else {
      writeOutput(out, encode(insns));
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ file: out, insns: insns.length, bytes: insns.length * 8 })}\n`);
    return 0;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ insns: insns.map((i) => toHex([i], '')) })}\n`);
    return 0;
  }
  process.stdout.write(insns.map((i) => `${toHex([i])}\n`).join(''));
  return 0;
}
