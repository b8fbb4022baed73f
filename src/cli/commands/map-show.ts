/**
 * `tsbpf map { show | list } [pinned PATH] [-j]`: a map's attributes, in
 * bpftool's layout and JSON. Without PATH, the kernel's maps through the
 * Linux backend when it is in the build (listing.ts).
 */
import { CliUsageError } from '../args.js';
import { isJson, openPinned } from './map-common.js';
import { kernelListing, mapPlain, noListing, type MapInfo } from '../listing.js';

export const usage = `Usage: tsbpf map { show | list } [pinned PATH] [-j|-p]
  The attributes of the map pinned at PATH (type, name, flags, sizes, max_entries).
  Without PATH: the kernel's maps, when tsbpf's Linux backend is in the build.
`;

export async function run(argv: string[]): Promise<number> {
  // without a pinned tsbpf map file: the kernel's maps (kernel-show.ts)
  const kernel = await import('./kernel-show.js');
  if (!argv.includes('pinned') || (await kernel.isBpffs(argv))) return kernel.showKernel('map', argv);
  const [json, args] = isJson(argv);
  let infos: MapInfo[];
  if (args.length === 0) {
    const k = await kernelListing();
    if (!k?.maps) throw noListing('map');
    infos = await k.maps();
  } else {
    const [pm, rest] = await openPinned(args);
    try {
      if (rest.length) throw new CliUsageError(`unexpected '${rest[0]}'`);
      const m = pm.map;
      infos = [{ id: m.id, type: m.type, name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, frozen: m.frozen ? 1 : 0 }];
    } finally {
      pm.close();
    }
  }
  // bpftool: one map named prints as an object, a listing as an array
  if (json) process.stdout.write(JSON.stringify(args.length ? infos[0] : infos) + '\n');
  else process.stdout.write(infos.map(mapPlain).join(''));
  return 0;
}
