/**
 * `tsbpf prog run FILE PROG --data-in F [--data-out F] [--ctx-in F]
 * [--ctx-out F] [--repeat N] [--jit|--interpret] [-j]`: BPF_PROG_TEST_RUN
 * on a program of an object file, like `bpftool prog run`. bpftool's own
 * words (`data_in F data_out F ctx_in F ctx_out F repeat N`) work too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { CliUsageError, parse } from '../args.js';
import { loadObjectFile } from '../../object/file.js';
import { Runtime, type Collection } from '../../runtime/runtime.js';
import { TsbpfError } from '../../errors.js';
import type { TestRunOptions } from '../../runtime/testrun/types.js';

export const usage = `Usage: tsbpf prog run FILE PROG --data-in F [--data-out F] [--ctx-in F] [--ctx-out F]
                      [--repeat N] [--jit | --interpret] [-j]
  (bpftool's words also work: data_in F data_out F ctx_in F ctx_out F repeat N)
  FILE '-' for --data-out / --ctx-out prints a hex dump.
`;

const WORDS: Record<string, string> = { data_in: '--data-in', data_out: '--data-out', ctx_in: '--ctx-in', ctx_out: '--ctx-out', repeat: '--repeat' };

/** A hex dump like bpftool's fprint_hex, 16 bytes a line. */
function hexDump(b: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 16)
    lines.push(Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join(' '));
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export async function run(argv: string[]): Promise<number> {
  const args = argv.map((a) => WORDS[a] ?? a);
  const { positionals, values } = parse(args, {
    json: { type: 'boolean', short: 'j' },
    pretty: { type: 'boolean', short: 'p' },
    'data-in': { type: 'string' },
    'data-out': { type: 'string' },
    'ctx-in': { type: 'string' },
    'ctx-out': { type: 'string' },
    repeat: { type: 'string' },
    jit: { type: 'boolean' },
    interpret: { type: 'boolean' },
  });
  const [file, progName] = positionals;
  if (!file || !progName || positionals.length > 2) throw new CliUsageError('expected FILE and PROG');
  if (values.jit && values.interpret) throw new CliUsageError('--jit and --interpret are exclusive');
  const opts: TestRunOptions = {};
  if (typeof values['data-in'] === 'string') opts.data = new Uint8Array(await readFile(values['data-in']));
  if (typeof values['ctx-in'] === 'string') opts.ctx = new Uint8Array(await readFile(values['ctx-in']));
  if (typeof values.repeat === 'string') {
    const n = Number(values.repeat);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new CliUsageError(`invalid repeat '${values.repeat}'`);
    opts.repeat = n;
  }
  const spec = await loadObjectFile(file);
  // Default: the runtime's (the JIT for verified programs).
  const rt = new Runtime(values.jit ? { engine: 'jit' } : values.interpret ? { engine: 'interpreter' } : {});
  try {
    if (!spec.programs.has(progName)) throw new TsbpfError('ENOENT', `no program ${progName} in ${file}`);
    // Load the whole object, like `bpftool prog loadall`, so prog_array slots naming the other
    // programs are filled; if another program fails to load, fall back to this one alone.
    let coll: Collection;
    try {
      coll = await rt.load(spec);
    } catch {
      coll = await rt.load(spec, { programs: [progName] });
    }
    const res = coll.program(progName).run(opts);
    const json = values.json || values.pretty;
    const out = (dest: unknown, bytes: Uint8Array | undefined, label: string): Promise<void> | void => {
      if (typeof dest !== 'string' || !bytes) return;
      if (dest === '-') {
        if (!json) process.stdout.write(`${label}:\n${hexDump(bytes)}\n`);
        return;
      }
      return writeFile(dest, bytes);
    };
    await out(values['data-out'], res.data, 'data_out');
    await out(values['ctx-out'], res.ctx, 'context_out');
    if (json) {
      const o: Record<string, unknown> = { retval: res.retval, duration_ns: res.duration };
      process.stdout.write(JSON.stringify(o, null, values.pretty ? 2 : undefined) + '\n');
    } else {
      process.stdout.write(`Return value: ${res.retval}, duration${opts.repeat && opts.repeat > 1 ? ' (average)' : ''}: ${res.duration}ns\n`);
    }
    return 0;
  } finally {
    rt.close();
  }
}
