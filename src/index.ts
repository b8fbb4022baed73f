/**
 * tsbpf: the eBPF system in TypeScript. The core (src/core.ts, also the
 * `tsbpf/core` entry for browsers) plus the Node.js bridges: object files,
 * collections and map pins on disk.
 */
export * from './core.js';
export { loadObjectFile, loadObjectFileSync } from './object/file.js';
export { loadCollectionFile, pinMapFile, openPinnedMapFile } from './runtime/node.js';
export { pinMap, openPinnedMap } from './maps/pin.js';

import { BpfMap } from './maps/map.js';
import { pinMap } from './maps/pin.js';
// Under Node, `map.pin(path)` writes a pin file (maps/pin.ts); the core leaves it unset.
BpfMap.pinWriter = pinMap;
