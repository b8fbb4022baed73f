/**
 * tsbpf's core: everything that runs without Node.js (docs/architecture.md,
 * "Dependencies and the core": nothing below `runtime` knows about Node-only
 * APIs), for browsers and other hosts. The package's main entry adds the Node
 * bridges (files, pins) on top.
 */
export * from './errors.js';
export * as isa from './isa/index.js';
export { assemble, assembleListing } from './isa/asm.js';
export type { AssembledListing } from './isa/asm.js';
export { disassemble, formatInsn } from './isa/disasm.js';
export { AddressSpace } from './memory/address-space.js';
export type { Region, RegionKind, AddressSpaceOptions } from './memory/address-space.js';
export type { Engine, Executable, ProgramImage, RunArgs, RunDeadline } from './vm/engine.js';
export type { InsnAux } from './verifier/insn-aux.js';
export { Interpreter } from './vm/interpreter.js';
export { JitEngine, dumpJited } from './vm/jit/index.js';
export { TieredEngine, TieredExecutable, DEFAULT_TIER_UP_RUNS } from './vm/tiered.js';
export type { TieredOptions } from './vm/tiered.js';
export { Debugger } from './vm/debugger.js';
export { ExecError, VmFault, BudgetExceeded, CallDepthExceeded, UnknownHelper, RunDeadlineExceeded } from './vm/fault.js';
export type { HelperDef, HelperFn, ExecEnv } from './vm/helper-abi.js';
export { HelperRegistry } from './vm/helper-abi.js';
export type { HelperProto, ArgType, RetType } from './uapi/helper-proto.js';
export { defaultHelpers } from './helpers/index.js';
export type { HelperHost, HelperRun, HelperMap, TaskIdentity, TraceRecord } from './helpers/index.js';
export { readObject, writeObject, ElfError, RelocationError, MapType, ProgType } from './object/index.js';
export type { CollectionSpec, ProgramSpec, MapSpec, MapTypeName, ProgTypeName, ElfMapFields, ReadObjectOptions, LegacyLoader } from './object/index.js';
export { Btf } from './object/btf/index.js';
export { verify, VerifierError } from './verifier/index.js';
export type { VerifierInput, VerifierResult } from './verifier/index.js';
export {
  createMap,
  BpfMap,
  MapError,
  MapTable,
  RingBufReader,
  TypedMap,
  ArrayMap,
  PerCpuArrayMap,
  HashMap,
  PerCpuHashMap,
  LruHashMap,
  LruPerCpuHashMap,
  LpmTrie,
  RingBuf,
  PerfEventArray,
  ProgArray,
  ArrayOfMaps,
  HashOfMaps,
  QueueMap,
  StackMap,
  BloomFilter,
  DevMap,
  DevMapHash,
} from './maps/index.js';
export { Runtime, Program, Collection, ManualClock, systemClock, TestRunError } from './runtime/index.js';
export type { RuntimeOptions, LoadOptions, RawProgram, TestRunOptions, TestRunResult, NetDevice, TraceSink } from './runtime/index.js';
export type { PinStore, PinOptions, OpenPinOptions } from './runtime/index.js';
export type { RuntimeApi, CollectionApi, ProgramApi, MapApi, LoadOptionsApi, VariableApi, RingBufReaderApi, ReaderOptions } from './runtime/index.js';
export { Variable } from './runtime/index.js';
export { variablesOf, VariableSpec, type VariableLocation } from './object/variables.js';
export type { MapTypes } from './maps/classes.js';
export type { MapOps, MapOpsTable, MapDescriptor, KeyInput, ValueInput, BatchResult, TypedMapOptions, RingBufReaderOptions } from './maps/index.js';
export type { BtfValue } from './object/btf/codec.js';
export { SharedCollection } from './runtime/index.js';
// A test run's context and packet, prepared without running (the playground's debugger steps through it).
export { RunState } from './runtime/index.js';
export { prepareXdp } from './runtime/testrun/xdp.js';
export type { PreparedRun } from './runtime/testrun/run.js';
export type { SharedRuntime, SharedMapInfo, SharedProgramInfo, ShareOptions, AttachOptions } from './runtime/index.js';
