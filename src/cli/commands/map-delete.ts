/** `tsbpf map delete pinned PATH key [hex] BYTES`, like bpftool's; the file is rewritten. */
import { CliUsageError } from '../args.js';
import { errorOut, exitCodeFor, isJson, openPinned, parseBytes, strerror } from './map-common.js';

export const usage = 'Usage: tsbpf map delete pinned PATH key [hex] BYTES\n';

export async function run(argv: string[]): Promise<number> {
  const [json, args] = isJson(argv);
  const [pm, rest] = await openPinned(args);
  try {
    if (rest[0] !== 'key') throw new CliUsageError("expected 'key'");
    const [key, i] = parseBytes(rest, 1, pm.map.keySize, 'key');
    if (i !== rest.length) throw new CliUsageError(`unexpected '${rest[i]}'`);
    pm.map.delete(key);
    await pm.save();
    if (json) process.stdout.write('null\n');
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    errorOut(json, e instanceof Error && /expected \d+ bytes/.test(e.message) ? e.message : `delete failed: ${strerror(e)}`);
    return exitCodeFor(e);
  } finally {
    pm.close();
  }
}
