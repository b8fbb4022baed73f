export * from './opcodes.js';
export * from './insn.js';
export * from './validate.js';
export * from './asm.js';
export * from './disasm.js';
export * from './helper-names.js';
export * from './groups.js';
