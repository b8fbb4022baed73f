/** `tsbpf map show pinned PATH [-j]`: the map's attributes, like bpftool's. */
import { CliUsageError } from '../args.js';
import { isJson, openPinned } from './map-common.js';

export const usage = 'Usage: tsbpf map show pinned PATH [-j]\n';

export async function run(argv: string[]): Promise<number> {
  // without a pinned tsbpf map file: the kernel's maps (kernel-show.ts)
  const kernel = await import('./kernel-show.js');
  if (!argv.includes('pinned') || (await kernel.isBpffs(argv))) return kernel.showKernel('map', argv);
  const [json, args] = isJson(argv);
  const [pm, rest] = await openPinned(args);
  try {
    if (rest.length) throw new CliUsageError(`unexpected '${rest[0]}'`);
    const m = pm.map;
    if (json) {
      process.stdout.write(
        JSON.stringify({ id: m.id, type: m.type, name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, frozen: m.frozen ? 1 : 0 }) + '\n',
      );
    } else {
      process.stdout.write(`${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n\tkey ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}${m.frozen ? '  frozen' : ''}\n`);
    }
    return 0;
  } finally {
    pm.close();
  }
}
