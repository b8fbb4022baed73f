/** The JIT: eBPF to WebAssembly. `new JitEngine().prepare(image).run({ args, cpu, run, budget })`. */
export { JitEngine, JitExecutable, JitMemoryFault, type JitOptions } from './engine.js';
export { compileProgram, type CompiledModule, type CompileOptions, type HelperInliner, type InlineSite } from './compile.js';
export { arrayMapLookup, defaultInliners, smpProcessorId, type ArrayMapLayout } from './inline.js';
export { dumpJited, printWat } from './wat.js';
