export * from './opcodes.js';
export * from './insn.js';
export * from './validate.js';
export * from './asm.js';
export * from './disasm.js';
export { HELPER_NAMES, HELPER_MAX_ID, helperName, helperId } from '../uapi/helper-ids.js';
export * from './groups.js';
