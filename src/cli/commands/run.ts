/**
 * `tsbpf run FILE [--mem HEX] [--interpret|--jit] [--trace] [--budget N]`:
 * run a raw program the way the conformance suite does (r1 = a writable copy
 * of --mem, r2 = its length, helper 5 returns r1) and print r0.
 *
 * FILE may be raw bytecode (8-byte little-endian slots), hex text
 * ("b7 00 00 00 01 00 00 00 ...", 0x and whitespace ignored), or assembly in
 * either dialect (the kernel log's `r0 = 1` or the suite's `mov %r0, 1`);
 * the kind is detected from the content. `--trace` (interpreter only) prints
 * every executed instruction followed by the registers it changed.
 */
import { writeStdout } from '../stdout.js';
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS, type OptionSpec } from '../args.js';
import { readBounded } from '../../bounded-read.js';
import { decode, fromHex, type Insn } from '../../isa/insn.js';
import { assemble } from '../../isa/asm.js';
import { formatInsn } from '../../isa/disasm.js';
import { parseHexBytes } from '../../conformance/data.js';
import { loadEngine, prepareRaw } from '../../conformance/runner.js';
import { Debugger } from '../../vm/debugger.js';
import type { InterpExecutable } from '../../vm/interpreter.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  mem: { type: 'string' },
  jit: { type: 'boolean' },
  interpret: { type: 'boolean' },
  trace: { type: 'boolean' },
  budget: { type: 'string' },
};

export const usage = `Usage: tsbpf run FILE [--mem HEX] [--interpret|--jit] [--trace] [--budget N] [-j|-p]
  FILE: raw bytecode, hex text, or assembly (detected). Runs it as the conformance
  suite does (r1 = a copy of --mem, r2 = its length) and prints r0.
  --mem HEX      the memory r1 points to ("01 02 03")
  --interpret (default) | --jit   the engine
  --trace        interpreter: every executed instruction and the registers it changed
  --budget N     stop with a fault after N instructions
`;

export type ProgramFormat = 'binary' | 'hex' | 'asm' | 'elf';

/** Decide what FILE holds and turn it into instruction slots. */
export function loadProgram(bytes: Uint8Array): { format: ProgramFormat; insns: Insn[] } {
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46)
    throw new TsbpfError('EINVAL', 'this is an ELF object file: use `tsbpf prog run FILE PROG`');
  // Text is printable ASCII plus whitespace; anything else is bytecode.
  const text = bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (!text || bytes.length === 0) return { format: 'binary', insns: decode(bytes) };
  const s = Buffer.from(bytes).toString('utf8');
  const body = s.replace(/(^|\n)\s*(#|;|\/\/)[^\n]*/g, '\n');
  if (/^[\s0-9a-fA-Fx,]*$/.test(body) && /[0-9a-fA-F]{2}/.test(body)) return { format: 'hex', insns: fromHex(body) };
  return { format: 'asm', insns: assemble(s) };
}

function hex64(v: bigint): string {
  return `0x${v.toString(16)}`;
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length !== 1) throw new CliUsageError('expected one FILE');
  if (values.jit && values.interpret) throw new CliUsageError('--jit and --interpret exclude each other');
  if (values.jit && values.trace) throw new CliUsageError('--trace needs the interpreter');
  let budget: number | undefined;
  if (typeof values.budget === 'string') {
    budget = Number(values.budget);
    if (!Number.isInteger(budget) || budget < 0) throw new CliUsageError(`invalid --budget '${values.budget}'`);
  }
  const bytes = readBounded(positionals[0]!, { kind: 'program' });
  const { insns } = loadProgram(bytes);
  const mem = typeof values.mem === 'string' ? parseHexBytes(values.mem) : undefined;
  const engine = await loadEngine(values.jit ? 'jit' : 'interpret');
  const raw = prepareRaw(insns, mem !== undefined && mem.length > 0 ? mem : undefined, engine, positionals[0]);
  const runArgs = budget === undefined ? { args: raw.args } : { args: raw.args, budget };
  let r0: bigint;
  if (values.trace) {
    r0 = trace(raw.exe as InterpExecutable, runArgs);
  } else r0 = raw.exe.run(runArgs);
  writeStdout(values.json ? JSON.stringify({ r0: hex64(r0), engine: engine.kind }) + '\n' : `${hex64(r0)}\n`);
  return 0;
}

/** Step through the program printing each instruction and the registers it changed. */
function trace(exe: InterpExecutable, args: { args: bigint[]; budget?: number }): bigint {
  const dbg = new Debugger(exe, args);
  // Synchronous, buffered output: a trace can be long, and a closed pipe
  // (`| head`) must end it quietly rather than pile up pending writes.
  let buf = '';
  const flush = (): void => {
    writeStdout(buf);
    buf = '';
  };
  const out = {
    write(s: string): void {
      buf += s;
      if (buf.length > 1 << 16) flush();
    },
  };
  try {
    return traceLoop(dbg, out);
  } finally {
    flush();
    dbg.close();
  }
}

function traceLoop(dbg: Debugger, out: { write(s: string): void }): bigint {
  {
    let regs = dbg.registers();
    out.write(`     ${regs.map((v, i) => `r${i}=${hex64(v)}`).filter((_, i) => i === 1 || i === 2 || i === 10).join(' ')}\n`);
    for (;;) {
      const pc = dbg.pc;
      const depth = dbg.depth;
      const text = formatInsn(dbg.insns, pc);
      const ev = dbg.step();
      if (ev.reason === 'fault' || ev.reason === 'budget') {
        out.write(`${String(pc).padStart(4)}: ${'  '.repeat(depth)}${text}\n`);
        throw ev.error!;
      }
      const now = dbg.registers();
      const changed = now.map((v, i) => (v !== regs[i] ? `r${i}=${hex64(v)}` : '')).filter((x) => x !== '');
      regs = now;
      out.write(`${String(pc).padStart(4)}: ${'  '.repeat(depth)}${text}${changed.length ? `    ; ${changed.join(' ')}` : ''}\n`);
      if (ev.reason === 'exit') return ev.r0!;
    }
  }
}
