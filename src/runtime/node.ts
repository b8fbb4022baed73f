/**
 * Node-only conveniences: open an object file from disk and load it into a
 * runtime in one call (the rest of src/runtime runs in a browser too).
 */
import { loadObjectFile } from '../object/file.js';
import { openPinnedMap, pinMap } from '../maps/pin.js';
import type { BpfMap } from '../maps/map.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, type Collection, type LoadOptions, type PinStore, type RuntimeOptions } from './runtime.js';

/**
 * Read `path` and load it into `runtime` (or a new Runtime made from
 * options). With `pinPath`, maps declared `LIBBPF_PIN_BY_NAME` are reused
 * from `<pinPath>/<name>` when pinned there, and pinned there otherwise
 * (libbpf's pin_root_path, default /sys/fs/bpf in libbpf).
 */
export async function loadCollectionFile(path: string, runtime: Runtime | RuntimeOptions = {}, opts: LoadOptions & { pinPath?: string } = {}): Promise<Collection> {
  const rt = runtime instanceof Runtime ? runtime : new Runtime(runtime);
  const spec = await loadObjectFile(path);
  const { pinPath, ...load } = opts;
  if (pinPath !== undefined && !load.pins) load.pins = directoryPins(pinPath);
  return rt.load(spec, load);
}

/** A PinStore over a directory of pin files named after the maps. */
export function directoryPins(dir: string): PinStore {
  return {
    get: (name, rt) => (existsSync(join(dir, name)) ? openPinnedMap(join(dir, name), rt.mapContext()) : undefined),
    put: (name, map) => pinMap(map, join(dir, name)),
  };
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
