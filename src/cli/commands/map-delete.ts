/** `tsbpf map delete pinned PATH key [hex] BYTES`, like bpftool's; the file is rewritten. */
import { CliUsageError } from '../args.js';
import { changePinned, parseBytes } from './map-common.js';

export const usage = `Usage: tsbpf map delete pinned PATH key [hex] BYTES [-j]
  Deletes one key of the map pinned at PATH and rewrites the pin.
`;

export async function run(argv: string[]): Promise<number> {
  return changePinned(argv, 'delete', (map, rest) => {
    if (rest[0] !== 'key') throw new CliUsageError("expected 'key'");
    const [key, i] = parseBytes(rest, 1, map.keySize, 'key');
    if (i !== rest.length) throw new CliUsageError(`unexpected '${rest[i]}'`);
    map.delete(key);
  });
}
