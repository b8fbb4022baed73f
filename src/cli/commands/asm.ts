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
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS } from '../args.js';
import { assemble, dataFileSource, type AsmDialect } from '../../isa/asm.js';
import { encode, toHex, type Insn } from '../../isa/insn.js';

export const usage = `Usage: tsbpf asm FILE [-o OUT] [--dialect auto|kernel|conformance] [--section NAME]
  Assembles FILE (kernel verifier-log / LLVM syntax, or the conformance suite's %r dialect).
  Without -o: one instruction per line as hex bytes. -o OUT.bin: raw bytecode.
  -o OUT.o: an ELF object (program section NAME, default "socket"). -j: JSON.
`;

const DIALECTS: readonly AsmDialect[] = ['auto', 'kernel', 'conformance'];

function readInput(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new TsbpfError('ENOENT', `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Loaded only for `-o X.o`, so plain assembly does not load the object layer. */
async function writeElf(out: string, insns: Insn[], section: string, name: string): Promise<void> {
  const { writeObject } = await import('../../object/writer.js');
  writeFileSync(out, writeObject({ programs: [{ name, section, insns }], license: 'GPL' }));
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, {
    ...JSON_OPTS,
    output: { type: 'string', short: 'o' },
    dialect: { type: 'string' },
    section: { type: 'string' },
  });
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
      writeFileSync(out, encode(insns));
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
