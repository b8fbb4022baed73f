/**
 * Node-only conveniences: a Runtime whose maps pin to files, and opening an
 * object file from disk and loading it in one call (the rest of src/runtime
 * runs in a browser too).
 */
import { loadObjectFile } from '../object/file.js';
import { filePins, pinMap } from '../maps/pin.js';
import type { BpfMap } from '../maps/map.js';
import { Runtime as CoreRuntime, type Collection, type LoadOptions, type RuntimeOptions } from './runtime.js';

/**
 * The runtime of the Node entry (`import { Runtime } from 'tsbpf'`): the
 * core's Runtime with pin files as its pin store unless `opts.pins` names
 * another, so `map.pin(path)` and `runtime.openPinnedMap(path)` work on disk.
 */
export class Runtime extends CoreRuntime {
  constructor(opts: RuntimeOptions = {}) {
    super({ pins: filePins, ...opts });
  }
}

/**
 * Read `path` and load it into `runtime` (or a new Runtime made from
 * options). With `pinPath`, maps declared `LIBBPF_PIN_BY_NAME` are reused
 * from `<pinPath>/<name>` when pinned there, and pinned there otherwise
 * (libbpf's pin_root_path, default /sys/fs/bpf in libbpf), in the runtime's
 * pin store.
 */
export async function loadCollectionFile(path: string, runtime: CoreRuntime | RuntimeOptions = {}, opts: LoadOptions = {}): Promise<Collection> {
  const rt = runtime instanceof CoreRuntime ? runtime : new Runtime(runtime);
  return rt.load(await loadObjectFile(path), opts);
}

/**
 * Pin a map to a file (the maps layer's atomic snapshot format).
 * @deprecated use `map.pin(path, { exclusive })`, which pins through the map's runtime.
 */
export function pinMapFile(map: BpfMap<unknown>, path: string, opts: { exclusive?: boolean } = {}): void {
  pinMap(map, path, opts);
}

/**
 * Reopen a pinned map inside `runtime`.
 * @deprecated use `runtime.openPinnedMap(path, { mode })`.
 */
export function openPinnedMapFile(runtime: CoreRuntime, path: string, opts: { mode?: 'rw' | 'r' | 'w' } = {}): BpfMap<unknown> {
  return runtime.mapContext().pins ? runtime.openPinnedMap(path, opts) : filePins.open(path, runtime.mapContext(), opts);
}
