/** `tsbpf map delete pinned PATH key [hex] BYTES`, like bpftool's; the file is rewritten. */
import { CliUsageError } from '../args.js';
import { changeMap, parseBytes } from './map-common.js';

export const usage = `Usage: tsbpf map delete { pinned PATH | id N } key [hex] BYTES [-j]
  Deletes one key of the map: a tsbpf pin file (rewritten), or the running kernel's
  map ('id N', or a PATH in a bpffs; root or CAP_BPF).
`;

export async function run(argv: string[]): Promise<number> {
  return changeMap(argv, 'delete', (map, rest) => {
    if (rest[0] !== 'key') throw new CliUsageError("expected 'key'");
    const [key, i] = parseBytes(rest, 1, map.keySize, 'key');
    if (i !== rest.length) throw new CliUsageError(`unexpected '${rest[i]}'`);
    map.delete(key);
  });
}
