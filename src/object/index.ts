/**
 * The object layer: ELF objects in, specs out (and objects written).
 * Browser-safe: opening files by path is in `./file.js` (Node only).
 */
export * from './spec.js';
export { readObject, objectNameFromPath, internalMapName, MAX_OBJECT_INSNS, type ReadObjectOptions } from './reader.js';
export { writeObject, ObjectWriteError, type WriteObjectInput, type WriteProgram, type WriteMap } from './writer.js';
export { parseElf, ElfError, type ElfFile, type ElfSection, type ElfSymbol, type ElfRelocation } from './elf.js';
export { matchSection, SECTION_DEFS, type SectionDef, type SectionMatch } from './sections.js';
export { MapDefinitionError, mapTypeName } from './maps.js';
export { PIN_NONE, PIN_OBJECT_NS, PIN_GLOBAL_NS, type LegacyLoader } from './legacy-maps.js';
export { RelocationError, MAX_LINKED_INSNS } from './relocate.js';
