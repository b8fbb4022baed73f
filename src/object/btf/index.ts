/**
 * BTF and BTF.ext: types, parsing, dumping, value codec, CO-RE.
 * The public surface other layers use (object loader, map dump, prog dump).
 */
export { Btf, BTF_MAGIC, MAX_RESOLVE_DEPTH, type BtfParseOptions, type BtfParseState } from './btf.js';
export { BtfError } from './error.js';
export { BtfStrings } from './strings.js';
export * from './types.js';
export { parseBtfExt, CORE_RELO_KINDS, type BtfExt, type BtfExtSection, type FuncInfo, type LineInfo, type CoreRelo, type CoreReloKind } from './ext.js';
export { dumpRaw, dumpRawJson, formatRawType } from './dump-raw.js';
export { dumpC, dumpCTypes, type DumpCOptions } from './dump-c.js';
export { formatWithLines, funcSignature, typeToString, type LineAnnotations, type FormatLinesOptions } from './lines.js';
export { loadBtfFile, loadBtfAndExt } from './file.js';
export { toJson, type JsonValue } from './json.js';
export { decodeValue, encodeValue, formatValue, formatJson, formatMapDump, BtfValueError, Hex, Plain, type BtfValue, type Formatted, type CodecOptions } from './codec.js';
export { applyCoreRelocations, calcCoreRelocation, essentialName, CoreRelocationError, POISON_HELPER_ID, type CoreResult, type CoreCandCache, type CoreCand, type CoreModule, type CoreModules, type CoreLog } from './core.js';
export { btfSubset } from './subset.js';
export { contextBtf, CONTEXT_TYPES } from './context.js';
