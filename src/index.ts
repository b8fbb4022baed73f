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
