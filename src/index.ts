/**
 * tsbpf: the eBPF system in TypeScript.
 */
export * from './errors.js';
export * as isa from './isa/index.js';
export { AddressSpace } from './vm/memory.js';
export type { Region, RegionKind, AddressSpaceOptions } from './vm/memory.js';
export type { HelperDef, HelperFn, ExecEnv } from './helpers/types.js';
export { HelperRegistry } from './helpers/types.js';
export type { HelperProto, ArgType, RetType } from './helpers/proto.js';
export { Runtime, Program, Collection, ManualClock, systemClock, TestRunError } from './runtime/index.js';
export type { RuntimeOptions, LoadOptions, RawProgram, TestRunOptions, TestRunResult, NetDevice, TraceSink } from './runtime/index.js';
export { loadCollectionFile, pinMapFile, openPinnedMapFile } from './runtime/node.js';
export { defaultHelpers } from './helpers/index.js';
export type { HelperHost, HelperRun, HelperMap, TaskIdentity, TraceRecord } from './helpers/index.js';
