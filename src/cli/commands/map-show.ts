/**
 * `tsbpf map { show | list } [pinned PATH] [-j]`: a map's attributes, in
 * bpftool's layout and JSON. Without PATH, the kernel's maps through the
 * Linux backend when it is in the build (listing.ts).
 */
import { CliUsageError } from '../args.js';
import { isJson, openPinPath } from './map-common.js';
import { mapPlain, type MapInfo } from '../listing.js';

export const usage = `Usage: tsbpf map { show | list } [pinned PATH] [-j|-p]
  The attributes of the map pinned at PATH (type, name, flags, sizes, max_entries).
  Without PATH: the kernel's maps, when tsbpf's Linux backend is in the build.
`;

export async function run(argv: string[]): Promise<number> {
  // without a pinned tsbpf map file: the kernel's maps (kernel-show.ts); below, a tsbpf pin
  const kernel = await import('./kernel-show.js');
  if (!argv.includes('pinned') || (await kernel.isBpffs(argv))) return kernel.showKernel('map', argv);
  const [json, args] = isJson(argv);
  if (args[0] !== 'pinned' || !args[1]) throw new CliUsageError("expected 'pinned PATH'");
  const pm = openPinPath(args[1]);
  const rest = args.slice(2);
  let info: MapInfo;
  try {
    if (rest.length) throw new CliUsageError(`unexpected '${rest[0]}'`);
    const m = pm.map;
    info = { id: m.id, type: m.type, name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, frozen: m.frozen ? 1 : 0 };
  } finally {
    pm.close();
  }
  // bpftool: one map named prints as an object
  process.stdout.write(json ? JSON.stringify(info) + '\n' : mapPlain(info));
  return 0;
}
