/**
 * `tsbpf/kernel`: the Linux kernel backend. The same CollectionSpec the
 * user-space Runtime runs, loaded into the running kernel through bpf(2):
 *
 *   import { loadObjectFile } from 'tsbpf';
 *   import { KernelRuntime } from 'tsbpf/kernel';
 *   const rt = new KernelRuntime();
 *   const coll = await rt.load(await loadObjectFile('prog.o'));
 *   coll.program('xdp_prog').run({ data });      // BPF_PROG_TEST_RUN
 *   coll.program('trace').attach();              // where its section says
 *
 * Node.js on Linux only; the FFI (koffi) is imported on first use.
 */
export { KernelRuntime, KernelProgram, KernelCollection, possibleCpus, type KernelRuntimeOptions, type KernelLoadOptions } from './runtime.js';
export { KernelMap, type KernelValue } from './map.js';
export { KernelLink, tracefs, type AttachTarget } from './attach.js';
export { KernelRingBufReader, type KernelRingBufOptions } from './ringbuf.js';
export { KernelPerfReader, type KernelPerfRecord, type KernelPerfOptions } from './perfbuf.js';
export { TracePrintkReader } from './trace-pipe.js';
export { KernelVerifierError } from './verifier-error.js';
export { KernelError, KernelFeatureError, openSys } from './ffi.js';
export { Features, type Feature } from './probe.js';
export { kernelUnavailable } from './available.js';
export { sanitizeBtf, type BtfFeatures } from './btf-sanitize.js';
export { ids, fdById, progInfo, mapInfo, linkInfo, btfInfo, type ProgInfo, type MapInfo, type LinkInfo, type BtfInfo, type ObjKind } from './info.js';
export type { CollectionApi, ProgramApi, MapApi, RuntimeApi, LoadOptionsApi } from '../runtime/api.js';
