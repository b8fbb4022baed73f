/** `tsbpf map update pinned PATH key [hex] BYTES value [hex] BYTES [any|noexist|exist]`, like bpftool's; the file is rewritten. */
import { CliUsageError } from '../args.js';
import { changeMap, parseBytes } from './map-common.js';

export const usage = `Usage: tsbpf map update { pinned PATH | id N } key [hex] BYTES value [hex] BYTES [any|noexist|exist] [-j]
  Sets one entry of the map (BPF_ANY, BPF_NOEXIST, BPF_EXIST as the last word): a tsbpf
  pin file (rewritten), or the running kernel's map ('id N', or a PATH in a bpffs; root
  or CAP_BPF). Per-CPU maps get the value on every CPU, as bpftool does.
`;

const FLAGS: Record<string, number> = { any: 0, noexist: 1, exist: 2 };

export async function run(argv: string[]): Promise<number> {
  return changeMap(argv, 'update', (map, rest) => {
    if (rest[0] !== 'key') throw new CliUsageError("expected 'key'");
    const [key, i] = parseBytes(rest, 1, map.keySize, 'key');
    if (rest[i] !== 'value') throw new CliUsageError("expected 'value'");
    const [value, j] = parseBytes(rest, i + 1, map.valueSize, 'value');
    let flags = 0;
    if (j < rest.length) {
      const f = FLAGS[rest[j]!];
      if (f === undefined || j + 1 !== rest.length) throw new CliUsageError(`unexpected '${rest[j]}'`);
      flags = f;
    }
    // bpftool gives one value for per-CPU maps and writes it to every CPU.
    map.set(key, value, flags);
  });
}
