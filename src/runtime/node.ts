/**
 * Node-only conveniences: open an object file from disk and load it into a
 * runtime in one call (the rest of src/runtime runs in a browser too).
 */
import { loadObjectFile } from '../object/file.js';
import { openPinnedMap, pinMap } from '../maps/pin.js';
import type { BpfMap } from '../maps/map.js';
import { Runtime, type Collection, type LoadOptions, type RuntimeOptions } from './runtime.js';

/** Read `path` and load it into `runtime` (or a new Runtime made from options). */
export async function loadCollectionFile(path: string, runtime: Runtime | RuntimeOptions = {}, opts: LoadOptions = {}): Promise<Collection> {
  const rt = runtime instanceof Runtime ? runtime : new Runtime(runtime);
  const spec = await loadObjectFile(path);
  return rt.load(spec, opts);
}

/**
 * Pin a map to a file (the maps layer's atomic snapshot format): a later
 * process reopens it with every entry intact. `exclusive` refuses to replace
 * an existing pin (EEXIST), like BPF_OBJ_PIN on an existing path.
 */
export function pinMapFile(map: BpfMap<unknown>, path: string, opts: { exclusive?: boolean } = {}): void {
  pinMap(map, path, opts);
}

/** Reopen a pinned map inside `runtime` (new id; programs loaded later can share it through LoadOptions.replaceMaps). */
export function openPinnedMapFile(runtime: Runtime, path: string, opts: { mode?: 'rw' | 'r' | 'w' } = {}): BpfMap<unknown> {
  return openPinnedMap(path, runtime.mapContext(), opts);
}
