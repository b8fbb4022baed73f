/**
 * Runs many `tsbpf` command lines in one process (for test/cli-errors): reads
 * a JSON array of argv arrays on stdin, runs each through the CLI's main()
 * with standard output and error captured, and prints
 * `{"results":[{code,out,err}],"maxRssBytes":N}`: the peak resident set of
 * the whole batch shows whether any command read its input without a bound.
 */
import fs, { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { main } from '../src/cli/main.js';

const batch = JSON.parse(readFileSync(0, 'utf8')) as string[][];
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
// commands whose output is one write go to fd 1 directly (src/cli/stdout.ts): captured here too
const realWriteSync = fs.writeSync;
const results: Array<{ argv: string[]; code: number; out: string; err: string }> = [];
for (const argv of batch) {
  let out = '';
  let err = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  fs.writeSync = ((fd: number, data: string | Uint8Array, ...rest: unknown[]) => {
    if (fd !== 1) return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
    out += typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    code = -1;
    err += `main threw: ${(e as Error).stack}`;
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    fs.writeSync = realWriteSync;
    syncBuiltinESMExports();
  }
  results.push({ argv, code, out, err });
}
realOut(JSON.stringify({ results, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
