/**
 * `tsbpf map dump pinned PATH [-j]`: every entry, as bpftool prints it. A map
 * whose pin keeps its BTF (pinned from an object by `tsbpf map pin` or the
 * library's pinMap with `btf`) prints as bpftool prints a map with BTF:
 * plain, the entries formatted by type (`[{"key": 0, "value": 5}]` in
 * bpftool's layout); -j, the bytes of each entry plus `"formatted"`.
 */
import { CliUsageError } from '../args.js';
import { formatJson } from '../../object/btf/codec.js';
import { errorOut, exitCodeFor, formatEntry, formattedEntry, isJson, jsonEntry, jsonEntryWithBtf, openMapArg, strerror } from './map-common.js';

export const usage = `Usage: tsbpf map dump { pinned PATH | id N } [-j|-p]
  Every entry of the map pinned at PATH: bytes in hex ("key: 01 00 00 00  value: ...",
  "Found N elements"), or, when the pin keeps the map's BTF, formatted by type as
  bpftool does (-j: the bytes and "formatted": {"key": ..., "value": ...}).
  'id N', or a PATH in a bpffs: the running kernel's map (root or CAP_BPF), with its BTF.
`;

export async function run(argv: string[]): Promise<number> {
  const [json, args] = isJson(argv);
  const [pm, rest] = await openMapArg(args);
  try {
    if (rest.length) throw new CliUsageError(`unexpected '${rest[0]}'`);
    const entries: Array<[Uint8Array, unknown]> = [...pm.map.entries()];
    const { btf, map } = pm;
    if (json) {
      const items = entries.map(([k, v]) => (btf ? jsonEntryWithBtf(map, btf, k, v) : JSON.stringify(jsonEntry(k, v))));
      process.stdout.write(`[${items.join(',')}]\n`);
    } else if (btf) {
      // bpftool's json_writer in pretty mode: entries as `{` members at depth 2 `}`, joined by `,`
      const body = entries.map(([k, v]) => {
        const o = formattedEntry(map, btf, k, v);
        return `{${Object.keys(o).map((m) => `\n        ${JSON.stringify(m)}: ${formatJson(o[m]!, { json: false, pretty: true, depth: 2 })}`).join(',')}\n    }`;
      });
      process.stdout.write(entries.length ? `[${body.join(',')}\n]\n` : '[]\n');
    } else {
      let s = '';
      for (const [k, v] of entries) s += formatEntry(map, k, v);
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
