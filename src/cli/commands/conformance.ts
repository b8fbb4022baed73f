/**
 * `tsbpf conformance [DIR] [--interpret|--jit] [--filter RE] [-v]`: run every
 * `.data` file of a bpf_conformance suite directory (default: the suite in
 * ../shared/bpf-conformance/tests beside the repository), assembling each
 * test with tsbpf's own assembler, and end with `N passed, M failed`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS } from '../args.js';
import { parseTestFile } from '../../conformance/data.js';
import { loadEngine, runTest, type TestOutcome } from '../../conformance/runner.js';

export const usage = `Usage: tsbpf conformance [DIR] [--interpret|--jit] [--filter REGEX] [-v] [-j]
  Runs every DIR/*.data test (default: ../shared/bpf-conformance/tests beside the repository).
`;

/** The repository root, from this module's location (dist/src/cli/commands or src/cli/commands). */
function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${'/'}dist${'/'}`) ? resolve(here, '../../../..') : resolve(here, '../../..');
}

export function defaultSuiteDir(): string {
  const shared = process.env.TSBPF_SHARED ?? resolve(repoRoot(), '../shared');
  return join(shared, 'bpf-conformance', 'tests');
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, {
    ...JSON_OPTS,
    jit: { type: 'boolean' },
    interpret: { type: 'boolean' },
    filter: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  });
  if (positionals.length > 1) throw new CliUsageError('expected at most one directory');
  if (values.jit && values.interpret) throw new CliUsageError('--jit and --interpret exclude each other');
  const dir = resolve(positionals[0] ?? defaultSuiteDir());
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    files = readdirSync(dir).filter((f) => f.endsWith('.data')).sort();
  } catch (e) {
    throw new TsbpfError('ENOENT', `cannot read suite directory ${dir}: ${(e as Error).message}`);
  }
  let filter: RegExp | undefined;
  if (typeof values.filter === 'string') {
    try {
      filter = new RegExp(values.filter);
    } catch (e) {
      throw new CliUsageError(`invalid --filter: ${(e as Error).message}`);
    }
    files = files.filter((f) => filter!.test(f.replace(/\.data$/, '')));
  }
  if (files.length === 0) throw new TsbpfError('ENOENT', `no .data tests in ${dir}${filter ? ` matching ${filter}` : ''}`);
  const engine = await loadEngine(values.jit ? 'jit' : 'interpret');
  const outcomes: TestOutcome[] = [];
  for (const f of files) {
    const name = f.replace(/\.data$/, '');
    let o: TestOutcome;
    try {
      o = runTest(parseTestFile(readFileSync(join(dir, f), 'utf8'), name), engine);
    } catch (e) {
      o = { name, pass: false, message: `error: ${(e as Error).message}` };
    }
    outcomes.push(o);
    if (values.json) continue;
    if (!o.pass) process.stdout.write(`FAIL ${name}: ${o.message}\n`);
    else if (values.verbose) process.stdout.write(`PASS ${name}\n`);
  }
  const passed = outcomes.filter((o) => o.pass).length;
  const failed = outcomes.length - passed;
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        engine: engine.kind,
        dir,
        passed,
        failed,
        failures: outcomes.filter((o) => !o.pass).map((o) => ({ name: o.name, message: o.message })),
      }) + '\n',
    );
  } else process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
