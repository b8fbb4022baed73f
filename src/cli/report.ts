/**
 * How the CLI reports a failure: one line, with the errno name the system
 * or the kernel would give, never a stack trace (unless asked for with
 * `--debug` or TSBPF_DEBUG=1). Under -j the line is bpftool's JSON error
 * object on standard output (`{"error":"..."}`, plus the errno name).
 */
import { TsbpfError, type Errno } from '../errors.js';
import { fileError, isSystemError } from '../bounded-read.js';
import { CliUsageError } from './args.js';

export interface Failure {
  /** exit status: 2 for a usage error, 1 for a refused input or a failed operation, 70 (EX_SOFTWARE) for a bug */
  code: number;
  line: string;
  errno?: Errno;
}

/** Messages may span lines (a verifier's kernel message): one line of output keeps them joined. */
const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, '; ').trim();

export function describe(e: unknown, command: string): Failure {
  if (e instanceof CliUsageError) return { code: 2, line: `tsbpf ${command}: ${oneLine(e.message)} (see 'tsbpf ${command} help')` };
  let err = e;
  if (!(err instanceof TsbpfError) && isSystemError(err)) {
    const { path, syscall } = err as NodeJS.ErrnoException;
    err = fileError(path ?? command, syscall === 'write' || syscall === 'read' ? syscall : 'open', err);
  }
  if (err instanceof TsbpfError) return { code: 1, line: `Error: ${oneLine(err.message)} (${err.errno})`, errno: err.errno };
  if (err instanceof RangeError && /allocat|memory|Array buffer/i.test(err.message))
    return { code: 1, line: `Error: out of memory: ${oneLine(err.message)} (ENOMEM)`, errno: 'ENOMEM' };
  return { code: 70, line: `Error: internal error in tsbpf ${command}: ${oneLine(String((err as Error)?.message ?? err))} (run with --debug or TSBPF_DEBUG=1 for the stack)` };
}

export function debugEnabled(args: readonly string[]): boolean {
  return args.includes('--debug') || process.env.TSBPF_DEBUG === '1';
}

/** Print a failure and return its exit status. */
export function report(e: unknown, command: string, opts: { json: boolean; debug: boolean }): number {
  const f = describe(e, command);
  if (opts.debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  if (opts.json) {
    // bpftool -j reports every error, bad arguments included, as {"error": ...} on standard output
    const msg = f.line.replace(/^Error: /, '').replace(/ \(E[A-Z0-9]+\)$/, '');
    process.stdout.write(JSON.stringify({ error: msg, ...(f.errno ? { errno: f.errno } : {}) }) + '\n');
  } else process.stderr.write(`${f.line}\n`);
  return f.code;
}
