/** `tsbpf prog loadall FILE DIR [pinmaps DIR] [autoattach] [map ...]`: into the running kernel, as bpftool's (../kernel-load.ts). */
import { JSON_OPTS, parse, type OptionSpec } from '../args.js';
import { loadKernel } from '../kernel-load.js';

export const usage = `Usage: tsbpf prog loadall FILE DIR [pinmaps MAP_DIR] [autoattach]
                      [map { name NAME | idx N } { id N | pinned PATH }]... [-l|--log-level 1|2] [--kernel] [-j|-p]
  Loads the object into the running kernel (root or CAP_BPF; --kernel is implied) and pins each program
  at DIR/NAME, as bpftool prog loadall. pinmaps: every map at MAP_DIR/NAME.
  autoattach: attach each program where its section says and pin the link instead.
  map ...: use a map the kernel holds in place of the object's. ('tsbpf prog load
  FILE PATH --kernel' pins only the first program, at PATH.)
`;

export const options: OptionSpec = { ...JSON_OPTS, 'log-level': { type: 'string', short: 'l' }, kernel: { type: 'boolean' } };

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const level = Number(values['log-level'] ?? 0);
  return loadKernel(positionals, { all: true, json: Boolean(values.json || values.pretty), pretty: Boolean(values.pretty), logLevel: level === 1 || level === 2 ? level : 0, debug: process.env.TSBPF_DEBUG === '1' });
}
