/**
 * `tsbpf btf dump [file] FILE [format c|raw] [-j]`: print the BTF of an object
 * file (its `.BTF` section) or of a raw BTF blob such as
 * /sys/kernel/btf/vmlinux, exactly as `bpftool btf dump file FILE` prints it.
 */
import { parse, JSON_OPTS, CliUsageError, type OptionSpec } from '../args.js';
import { readBtfPath } from '../btf-input.js';
import { Btf } from '../../object/btf/btf.js';
import { dumpRaw, dumpRawJson } from '../../object/btf/dump-raw.js';
import { dumpC } from '../../object/btf/dump-c.js';
import { toJson } from '../../object/btf/json.js';
import { formatJson, type Formatted } from '../../object/btf/codec.js';

export const options: OptionSpec = { ...JSON_OPTS, 'base-btf': { type: 'string', short: 'B' }, kfuncs: { type: 'boolean' } };

export const usage = `Usage: tsbpf btf dump [file] FILE [format c|raw] [base BASE_FILE] [-B|--base-btf BASE_FILE] [--kfuncs] [-j|-p]
  FILE is a BPF object (.o with a .BTF section) or a raw BTF blob (/sys/kernel/btf/vmlinux).
  For split BTF (e.g. /sys/kernel/btf/<module>) give the base: -B /sys/kernel/btf/vmlinux.
  format raw (default) prints bpftool's listing, format c a header of C declarations.
  --kfuncs (format c) ends the header with extern prototypes of the kernel's kfuncs,
  as bpftool 7.5 and later print them, for programs that call kfuncs such as
  bpf_task_from_pid without declaring them.
`;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const words = [...positionals];
  if (words[0] === 'file') words.shift();
  const file = words.shift();
  if (!file) throw new CliUsageError('missing FILE');
  let format: 'raw' | 'c' = 'raw';
  let baseFile = typeof values['base-btf'] === 'string' ? values['base-btf'] : undefined;
  while (words.length) {
    const w = words.shift()!;
    const v = words.shift();
    if (w === 'format') {
      if (v !== 'raw' && v !== 'c') throw new CliUsageError(`unknown format '${v ?? ''}' (expected c or raw)`);
      format = v;
    } else if (w === 'base') {
      if (!v) throw new CliUsageError('base needs a file');
      baseFile = v;
    } else throw new CliUsageError(`unexpected '${w}'`);
  }
  const base = baseFile ? readBtfPath(baseFile) : undefined;
  const btf: Btf = readBtfPath(file, base);
  const json = values.json === true || values.pretty === true;
  if (format === 'c') {
    if (json) {
      process.stdout.write(toJson({ error: 'JSON output for C-syntax dump is not supported' }) + '\n');
      return 1;
    }
    process.stdout.write(dumpC(btf, { kfuncs: values.kfuncs === true }));
    return 0;
  }
  // -p uses bpftool's json_writer layout (array elements on one line, object members indented)
  // JsonValue admits null, Formatted does not; a raw BTF dump holds none (anonymous names are '(anon)')
  if (values.pretty === true) process.stdout.write(formatJson(dumpRawJson(btf) as unknown as Formatted, { json: true, pretty: true }) + '\n');
  else if (json) process.stdout.write(toJson(dumpRawJson(btf)) + '\n');
  else process.stdout.write(dumpRaw(btf));
  return 0;
}
