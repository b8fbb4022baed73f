/**
 * tsbpf: the eBPF system in TypeScript. The core (src/core.ts, also the
 * `tsbpf/core` entry for browsers) plus the Node.js bridges: object files,
 * collections and map pins on disk (this entry's Runtime pins to files).
 */
export * from './core.js';
export { Runtime, loadCollectionFile, pinMapFile, openPinnedMapFile } from './runtime/node.js';
export { loadObjectFile, loadObjectFileSync } from './object/file.js';
export { pinMap, openPinnedMap, filePins } from './maps/pin.js';
