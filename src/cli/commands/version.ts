/**
 * `tsbpf version` (also `tsbpf --version` / `-V`): as `bpftool version`
 * prints it: the tool's version, what it is built on, and its features;
 * with -j, `{"version":...,"node_version":...,"features":{...}}`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliUsageError, JSON_OPTS, parse, type OptionSpec, jsonText } from '../args.js';
import { libraryDir, packageRoot } from '../paths.js';

export const options: OptionSpec = { ...JSON_OPTS };

export const usage = `Usage: tsbpf version [-j|-p]
       tsbpf --version | -V
  Prints tsbpf's version, the Node.js it runs on and its features:
  jit (WebAssembly), workers (SharedArrayBuffer: maps shared across threads),
  kernel (the Linux backend is in this build).
`;

function features(): Record<string, boolean> {
  // dist/src/kernel beside dist/src/cli (the bundled command is built from the same files)
  const kernel = existsSync(join(libraryDir(), 'kernel'));
  return { jit: typeof WebAssembly === 'object', workers: typeof SharedArrayBuffer === 'function', kernel };
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length) throw new CliUsageError(`unexpected '${positionals[0]}'`);
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const f = features();
  if (values.json || values.pretty) {
    const o = { version: pkg.version, node_version: process.versions.node, features: f };
    process.stdout.write(jsonText(o, values.pretty));
  } else {
    const on = Object.keys(f).filter((k) => f[k]);
    process.stdout.write(`tsbpf v${pkg.version}\nusing node v${process.versions.node}\nfeatures: ${on.join(', ')}\n`);
  }
  return 0;
}
