/**
 * `tsbpf map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries N
 * name NAME [flags FLAGS] [inner_map pinned INNER]`: bpftool's grammar.
 * bpftool creates the map in the kernel and pins it at FILE on bpffs; tsbpf
 * creates it with the maps layer's checks (the kernel's errnos for a bad
 * size, flag or type) and pins it at FILE as tsbpf pins maps (a snapshot
 * file, src/maps/pin.ts), empty, ready for `map update` and `map dump`.
 */
import { TsbpfError } from '../../errors.js';
import { MapType, type MapSpec, type MapTypeName } from '../../object/spec.js';
import { createMap } from '../../maps/index.js';
import { openPinnedMap } from '../../maps/pin.js';
import { CliUsageError } from '../args.js';
import { isJson, mapContext, savePin } from './map-common.js';

export const usage = `Usage: tsbpf map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES
                        name NAME [flags FLAGS] [inner_map pinned INNER_FILE] [-j]
  Creates an empty map and pins it at FILE (EEXIST if FILE exists). TYPE is the
  kernel's name without BPF_MAP_TYPE_ (hash, array, lru_hash, percpu_array,
  lpm_trie, queue, stack, ringbuf, array_of_maps, ...); FLAGS the BPF_F_* map_flags
  as a number (1: BPF_F_NO_PREALLOC). For array_of_maps / hash_of_maps the inner
  map's template is the map pinned at INNER_FILE.
`;

const num = (w: string | undefined, what: string): number => {
  if (w === undefined || !/^(0x[0-9a-fA-F]+|\d+)$/.test(w) || Number(w) > 0xffffffff) throw new CliUsageError(`${what} wants a number, not '${w ?? ''}'`);
  return Number(w);
};

export async function run(argv: string[]): Promise<number> {
  const [json, words] = isJson(argv);
  const file = words[0];
  if (!file) throw new CliUsageError('expected FILE');
  const got: Record<string, string> = {};
  let inner: string | undefined;
  for (let i = 1; i < words.length; i += 2) {
    const w = words[i]!;
    if (w === 'inner_map') {
      if (words[i + 1] !== 'pinned' || !words[i + 2]) throw new CliUsageError("inner_map wants 'pinned FILE'");
      inner = words[i + 2];
      i++;
      continue;
    }
    if (w === 'dev' || w === 'offload_dev') throw new TsbpfError('EOPNOTSUPP', 'tsbpf maps are not offloaded to devices');
    if (!['type', 'key', 'value', 'entries', 'name', 'flags'].includes(w)) throw new CliUsageError(`unexpected '${w}'`);
    if (words[i + 1] === undefined) throw new CliUsageError(`${w} needs a value`);
    if (w in got) throw new CliUsageError(`${w} given twice`);
    got[w] = words[i + 1]!;
  }
  for (const w of ['type', 'key', 'value', 'entries', 'name']) if (!(w in got)) throw new CliUsageError(`missing '${w}'`);
  const type = got.type!;
  if (!(type in MapType) || type === 'unspec') throw new TsbpfError('EINVAL', `unrecognized map type: ${type}`);
  const spec: MapSpec = {
    // the kernel keeps BPF_OBJ_NAME_LEN - 1 = 15 characters of a map's name
    name: got.name!.slice(0, 15),
    type: type as MapTypeName,
    keySize: num(got.key, 'key'),
    valueSize: num(got.value, 'value'),
    maxEntries: num(got.entries, 'entries'),
    flags: got.flags === undefined ? 0 : num(got.flags, 'flags'),
    pinning: 'none',
  };
  if (inner !== undefined) {
    const im = openPinnedMap(inner, mapContext());
    spec.innerMap = im.spec;
    im.close();
  }
  const map = createMap(spec, mapContext());
  try {
    savePin(map, file, { exclusive: true });
  } finally {
    map.close();
  }
  if (json) process.stdout.write('null\n');
  return 0;
}
