/**
 * The runtime layer: tsbpf's "kernel".
 *
 *   const rt = new Runtime();                       // JIT for verified programs
 *   const coll = await rt.load(readObject(bytes));  // maps, verification, engine
 *   const r = coll.program('xdp_prog').run({ data: packet, repeat: 1000 });
 *   r.retval; r.data; r.duration;                   // BPF_PROG_TEST_RUN's answers
 *   coll.map('counts').get(key);                    // the same bytes the program wrote
 *   coll.close(); rt.close();
 *
 * Node-only conveniences (object files, pins on disk) are in ./node.js.
 */
export { Runtime, Program, Collection, type RuntimeOptions, type LoadOptions, type RawProgram } from './runtime.js';
export type { PinStore, PinOptions, OpenPinOptions } from '../maps/pin-store.js';
export { ManualClock, systemClock, defaultIdentity, type TraceSink } from './host.js';
export { TestRunError, type TestRunOptions, type TestRunResult, BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES, BPF_F_TEST_SKB_CHECKSUM_COMPLETE } from './testrun/types.js';
export type { NetDevice } from './netdev.js';
export type { RuntimeApi, CollectionApi, ProgramApi, MapApi, LoadOptionsApi, VariableApi, RingBufReaderApi, ReaderOptions } from './api.js';
export { Variable } from './variables.js';
export { RunState } from './testrun/run.js';
export { SharedCollection, type SharedRuntime, type SharedMapInfo, type SharedProgramInfo, type ShareOptions, type AttachOptions } from './shared.js';
