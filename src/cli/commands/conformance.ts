/**
 * `tsbpf conformance [DIR] [--interpret|--jit] [--filter RE] [-v]`: run every
 * `.data` file of a bpf_conformance suite directory (default: the suite in
 * ../shared/bpf-conformance/tests beside the repository), assembling each
 * test with tsbpf's own assembler, and end with `N passed, M failed`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS, type OptionSpec } from '../args.js';
import { FileError, fileError, readBounded } from '../../bounded-read.js';
import { packageRoot } from '../paths.js';
import { progress } from '../progress.js';
import { parseTestFile } from '../../conformance/data.js';
import { loadEngine, runTest, type TestOutcome } from '../../conformance/runner.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  jit: { type: 'boolean' },
  interpret: { type: 'boolean' },
  filter: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
};

export const usage = `Usage: tsbpf conformance [DIR] [--interpret|--jit] [--filter REGEX] [-v|--verbose] [-j|-p]
  Runs every DIR/*.data test (default: ../shared/bpf-conformance/tests beside the
  repository, or $TSBPF_SHARED/bpf-conformance/tests) and ends with "N passed, M failed".
  --interpret (default) | --jit   the engine
  --filter REGEX                  only the tests whose name matches
  -v                              print PASS lines too
`;

function defaultSuiteDir(): string {
  const shared = process.env.TSBPF_SHARED ?? resolve(packageRoot(), '../shared');
  return join(shared, 'bpf-conformance', 'tests');
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length > 1) throw new CliUsageError('expected at most one directory');
  if (values.jit && values.interpret) throw new CliUsageError('--jit and --interpret exclude each other');
  const dir = resolve(positionals[0] ?? defaultSuiteDir());
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new FileError('ENOTDIR', dir, 'open');
    files = readdirSync(dir).filter((f) => f.endsWith('.data')).sort();
  } catch (e) {
    throw fileError(dir, 'open', e);
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
  const bar = progress('conformance', files.length, { json: Boolean(values.json || values.pretty) });
  for (const f of files) {
    const name = f.replace(/\.data$/, '');
    bar.update(outcomes.length, name);
    let o: TestOutcome;
    try {
      o = runTest(parseTestFile(new TextDecoder().decode(readBounded(join(dir, f), { kind: 'test' })), name), engine);
    } catch (e) {
      o = { name, pass: false, message: `error: ${(e as Error).message}` };
    }
    outcomes.push(o);
    if (!o.pass || values.verbose) bar.end();
    if (values.json) continue;
    if (!o.pass) process.stdout.write(`FAIL ${name}: ${o.message}\n`);
    else if (values.verbose) process.stdout.write(`PASS ${name}\n`);
  }
  bar.end();
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
