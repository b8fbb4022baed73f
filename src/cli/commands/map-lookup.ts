/** `tsbpf map lookup pinned PATH key [hex] BYTES [-j]`, like bpftool's. */
import { CliUsageError } from '../args.js';
import { formatJson } from '../../object/btf/codec.js';
import { errorOut, exitCodeFor, formatEntry, formattedEntry, hex, isJson, jsonEntry, jsonEntryWithBtf, openMapArg, parseBytes, strerror } from './map-common.js';

export const usage = `Usage: tsbpf map lookup { pinned PATH | id N } key [hex] BYTES [-j|-p]
  The value of one key of the map ("Not found", exit 254, when absent): a tsbpf pin
  file, or the running kernel's map ('id N', or a PATH in a bpffs; root or CAP_BPF).
  BYTES: one byte per word in C notation (0x01 1 01), or after 'hex' in hex (01 ff).
`;

export async function run(argv: string[]): Promise<number> {
  const [json, args] = isJson(argv);
  const [pm, rest] = await openMapArg(args);
  try {
    if (rest[0] !== 'key') throw new CliUsageError("expected 'key'");
    const [key, next] = parseBytes(rest, 1, pm.map.keySize, 'key');
    if (next !== rest.length) throw new CliUsageError(`unexpected '${rest[next]}'`);
    const v = pm.map.get(key);
    if (v === undefined) {
      // bpftool: "Not found" and -ENOENT; with -j, `null`.
      if (json) process.stdout.write('null\n');
      else process.stdout.write(`key:\n${hex(key)}\n\nNot found\n`);
      return 254;
    }
    const { btf, map } = pm;
    // with BTF, as bpftool: the entry formatted by type (-j: the bytes plus "formatted")
    if (json) process.stdout.write((btf ? jsonEntryWithBtf(map, btf, key, v) : JSON.stringify(jsonEntry(key, v))) + '\n');
    else process.stdout.write(btf ? formatJson(formattedEntry(map, btf, key, v), { json: false, pretty: true }) + '\n' : formatEntry(map, key, v));
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    errorOut(json, e instanceof Error && /expected \d+ bytes/.test(e.message) ? e.message : `lookup failed: ${strerror(e)}`);
    return exitCodeFor(e);
  } finally {
    pm.close();
  }
}
