/** The assembler (see asm/index.ts); this module is its stable import path. */
export * from './asm/index.js';
