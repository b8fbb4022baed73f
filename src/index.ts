/**
 * tsbpf: the eBPF system in TypeScript. The core (src/core.ts, also the
 * `tsbpf/core` entry for browsers) plus the Node.js bridges: object files,
 * collections and map pins on disk (this entry's Runtime pins to files).
 */
export * from './core.js';
export { Runtime, loadCollectionFile, pinMapFile, openPinnedMapFile } from './runtime/node.js';
export { loadObjectFile, loadObjectFileSync } from './object/file.js';
export { filePins } from './maps/pin.js';
import { pinMap as pinMapFn, openPinnedMap as openPinnedMapFn } from './maps/pin.js';

/**
 * Pin `map` to a file.
 * @deprecated use `map.pin(path, opts)`, which pins through the map's runtime.
 */
export const pinMap: typeof pinMapFn = pinMapFn;
/**
 * Reopen a pin file with a map context.
 * @deprecated use `runtime.openPinnedMap(path, opts)`.
 */
export const openPinnedMap: typeof openPinnedMapFn = openPinnedMapFn;
