/** The runtime layer: Runtime, Collection, Program, test runs. */
export { Runtime, Program, Collection, type RuntimeOptions, type LoadOptions, type RawProgram, type PinStore } from './runtime.js';
export { ManualClock, systemClock, defaultIdentity, type TraceSink } from './host.js';
export { TestRunError, type TestRunOptions, type TestRunResult, BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES, BPF_F_TEST_SKB_CHECKSUM_COMPLETE } from './testrun/types.js';
export type { NetDevice } from './netdev.js';
