/**
 * `tsbpf object show FILE [-j]`: the programs and maps of an object file,
 * as libbpf would open it (subprograms appended, global data as maps named
 * `<object>.rodata`, ...). With -j, exactly one JSON object:
 * `{"programs":[{"name","section","type","insns"}],"maps":[{"name","type","key_size","value_size","max_entries"}]}`.
 */
import { CliUsageError, JSON_OPTS, parse, type OptionSpec, jsonText } from '../args.js';
import { loadObjectFileSync } from '../../object/file.js';
import type { CollectionSpec } from '../../object/spec.js';

export const options: OptionSpec = JSON_OPTS;

export const usage = `Usage: tsbpf object show FILE [-j|-p]
  Lists the programs (name, section, type, instruction count with subprograms
  appended) and maps (name, type, key/value size, max entries) of a BPF object.
`;

export interface ObjectSummary {
  programs: Array<{ name: string; section: string; type: string; insns: number }>;
  maps: Array<{ name: string; type: string; key_size: number; value_size: number; max_entries: number }>;
}

export function summarize(spec: CollectionSpec): ObjectSummary {
  return {
    programs: [...spec.programs.values()].map((p) => ({ name: p.name, section: p.section, type: p.type, insns: p.insns.length })),
    maps: [...spec.maps.values()].map((m) => ({
      name: m.name,
      type: m.type,
      key_size: m.keySize,
      value_size: m.valueSize,
      max_entries: m.maxEntries,
    })),
  };
}

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  if (positionals.length !== 1) throw new CliUsageError('expected exactly one FILE');
  const spec = loadObjectFileSync(positionals[0]!);
  const s = summarize(spec);
  if (values.json || values.pretty) {
    process.stdout.write(jsonText(s, values.pretty));
    return 0;
  }
  let out = `object ${spec.objectName || '(unnamed)'}: ${s.programs.length} program(s), ${s.maps.length} map(s)\n\n`;
  out += table(
    ['PROGRAM', 'SECTION', 'TYPE', 'INSNS'],
    s.programs.map((p) => [p.name, p.section, p.type, p.insns]),
  );
  if (s.maps.length) {
    out += '\n' + table(
      ['MAP', 'TYPE', 'KEY', 'VALUE', 'MAX_ENTRIES'],
      s.maps.map((m) => [m.name, m.type, m.key_size, m.value_size, m.max_entries]),
    );
  }
  const bad = [...spec.programs.values()].filter((p) => p.typeError);
  for (const p of bad) out += `\nwarning: program '${p.name}': ${p.typeError}\n`;
  process.stdout.write(out);
  return 0;
}
