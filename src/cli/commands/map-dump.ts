/** `tsbpf map dump pinned PATH [-j]`: every entry, formatted like bpftool's. */
import { CliUsageError } from '../args.js';
import { errorOut, exitCodeFor, formatEntry, isJson, jsonEntry, openPinned, strerror } from './map-common.js';

export const usage = 'Usage: tsbpf map dump pinned PATH [-j]\n';

export async function run(argv: string[]): Promise<number> {
  const [json, args] = isJson(argv);
  const [pm, rest] = await openPinned(args);
  try {
    if (rest.length) throw new CliUsageError(`unexpected '${rest[0]}'`);
    const entries: Array<[Uint8Array, unknown]> = [...pm.map.entries()];
    if (json) process.stdout.write(JSON.stringify(entries.map(([k, v]) => jsonEntry(k, v))) + '\n');
    else {
      let s = '';
      for (const [k, v] of entries) s += formatEntry(k, v);
      s += `Found ${entries.length} element${entries.length === 1 ? '' : 's'}\n`;
      process.stdout.write(s);
    }
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    errorOut(json, `dump failed: ${strerror(e)}`);
    return exitCodeFor(e);
  } finally {
    pm.close();
  }
}
