export * from './opcodes.js';
export * from './insn.js';
export * from './validate.js';
