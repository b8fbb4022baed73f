/**
 * src/cli/args.ts against Node's util.parseArgs (strict, positionals allowed), whose grammar and
 * messages it reproduces without loading Node's parse_args modules at every start (issue 17): the
 * same positionals and values, or the same message, on every form of word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { CliUsageError, JSON_OPTS, parse, type OptionSpec } from '../src/cli/args.js';
import { options as progRunOptions } from '../src/cli/commands/prog-run.js';

const SPEC: OptionSpec = { ...JSON_OPTS, output: { type: 'string', short: 'o' }, 'data-in': { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, x: { type: 'boolean' } };

/** What util.parseArgs makes of `args`: its result, or its message. */
function platform(args: string[], options: OptionSpec): { positionals: string[]; values: Record<string, unknown> } | string {
  try {
    const { positionals, values } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { positionals, values: { ...values } };
  } catch (e) {
    return (e as Error).message;
  }
}

function ours(args: string[], options: OptionSpec): { positionals: string[]; values: Record<string, unknown> } | string {
  try {
    const { positionals, values } = parse(args, options);
    return { positionals, values: { ...values } };
  } catch (e) {
    assert.ok(e instanceof CliUsageError, String(e));
    return e.message;
  }
}

const WORDS = ['a', '', '-', '--', '-j', '-p', '-jp', '-pj', '-jo', '-joF', '-oF', '-o', '-o=F', '-vjo', '-jq', '-q', '-x', '-xj', '--json', '--json=1', '--pretty=', '--output', '--output=F', '--output=-F', '--output=', '--data-in', '--data-in=a=b', '--nope', '--nope=1', '--=a', '--x', '--__proto__', '-F', '-FF', 'F', '--verbose', '-v'];

test('every sequence of up to three words: the same positionals, values and messages as util.parseArgs', () => {
  let cases = 0;
  const seqs: string[][] = [[]];
  for (const a of WORDS) {
    seqs.push([a]);
    for (const b of WORDS) {
      seqs.push([a, b]);
      for (const c of ['F', '-j', '--', '-F']) seqs.push([a, b, c]);
    }
  }
  const mismatches: string[] = [];
  for (const args of seqs) {
    cases++;
    const want = platform(args, SPEC);
    const got = ours(args, SPEC);
    try {
      assert.deepEqual(got, want);
    } catch {
      mismatches.push(`${JSON.stringify(args)}: ${JSON.stringify(got)} vs util.parseArgs ${JSON.stringify(want)}`);
    }
  }
  assert.ok(cases > 5000);
  assert.deepEqual(mismatches.slice(0, 10), []);
});

test("a command's own options: prog run's words and flags", () => {
  for (const args of [
    ['f.o', 'p', '--data-in', 'pkt', '--repeat', '2', '-j'],
    ['f.o', 'p', '--data-out', '-', '--jit'],
    ['f.o', 'p', '--repeat'],
    ['f.o', 'p', '--data-in', '-pkt'],
    ['f.o', 'p', '--kernel-btf=shipped', '--args', '1,2', '--comm', '"x"', '-p'],
    ['f.o', 'p', '--jit=yes'],
    ['--data', 'x'],
  ])
    assert.deepEqual(ours(args, progRunOptions), platform(args, progRunOptions), JSON.stringify(args));
});
