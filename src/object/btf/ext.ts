/**
 * BTF.ext: the per-program-section debug records clang emits beside .BTF
 * (struct btf_ext_header in libbpf's libbpf_internal.h):
 *  - func_info: which BTF func each subprogram start is,
 *  - line_info: source file, line text, line and column per instruction,
 *  - CO-RE relocations: the field/type/enum accesses to relocate at load.
 *
 * Each info block is `u32 rec_size` then, per ELF section, `{u32 sec_name_off,
 * u32 num_info}` and num_info records of rec_size bytes. In an object file
 * insn_off is in bytes; we return instruction (8-byte slot) indices, as
 * libbpf does once it has read them.
 */
import type { Btf } from './btf.js';
import { BtfError } from './error.js';

export interface FuncInfo {
  /** instruction index within the section */
  insnOff: number;
  typeId: number;
}
export interface LineInfo {
  insnOff: number;
  fileName: string;
  /** the source text of the line */
  line: string;
  lineNum: number;
  lineCol: number;
}

/** enum bpf_core_relo_kind, by value. */
export const CORE_RELO_KINDS = [
  'field_byte_offset',
  'field_byte_size',
  'field_exists',
  'field_signed',
  'field_lshift_u64',
  'field_rshift_u64',
  'type_id_local',
  'type_id_target',
  'type_exists',
  'type_size',
  'enumval_exists',
  'enumval_value',
  'type_matches',
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

export interface CoreRelo {
  insnOff: number;
  /** the local (program's) root type: a struct/union/enum/... in the object's BTF */
  typeId: number;
  /** "0:1:2": the access path, first index into an array of the root, then member / element indices */
  accessStr: string;
  kind: CoreReloKind;
  /** the record's index in its section (libbpf's `relo #N` in its log) */
  reloIdx?: number;
  /** the function the instruction belongs to (libbpf's `prog '...'`: a subprogram has its own name) */
  func?: string;
}

export interface BtfExtSection {
  name: string;
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelos: CoreRelo[];
}

export interface BtfExt {
  /** by ELF section name (`xdp`, `.text`, `kprobe/do_sys_open`) */
  sections: Map<string, BtfExtSection>;
}

const MIN_HDR = 24;

export function parseBtfExt(bytes: Uint8Array, endian: 'le' | 'be', btf: Btf): BtfExt {
  if (bytes.length < 8) throw new BtfError(0, `BTF.ext: truncated header: ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le = endian === 'le';
  const magic = dv.getUint16(0, le);
  if (magic !== 0xeb9f) {
    if (dv.getUint16(0, !le) === 0xeb9f) le = !le;
    else throw new BtfError(0, `BTF.ext: bad magic 0x${magic.toString(16).padStart(4, '0')}`);
  }
  if (bytes[2] !== 1) throw new BtfError(2, `BTF.ext: unsupported version ${bytes[2]}`);
  if (bytes[3] !== 0) throw new BtfError(3, `BTF.ext: unsupported flags 0x${bytes[3]!.toString(16)}`);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < MIN_HDR) throw new BtfError(4, `BTF.ext: header length ${hdrLen} shorter than ${MIN_HDR}`);
  if (hdrLen > bytes.length) throw new BtfError(4, `BTF.ext: header length ${hdrLen} exceeds the section (${bytes.length} bytes)`);
  const sections = new Map<string, BtfExtSection>();
  const sec = (name: string): BtfExtSection => {
    let s = sections.get(name);
    if (!s) sections.set(name, (s = { name, funcInfo: [], lineInfo: [], coreRelos: [] }));
    return s;
  };
  const str = (off: number, at: number, what: string): string => {
    if (!btf.strings.valid(off)) throw new BtfError(at, `BTF.ext: ${what} string offset ${off} outside the BTF string section`);
    return btf.strings.at(off);
  };
  const insnOff = (v: number, at: number): number => {
    if (v % 8 !== 0) throw new BtfError(at, `BTF.ext: insn_off ${v} is not a multiple of 8`);
    return v / 8;
  };
  const typeId = (id: number, at: number): number => {
    if (id >= btf.types.length) throw new BtfError(at, `BTF.ext: type id ${id} does not exist (${btf.types.length - 1} types)`);
    return id;
  };

  /** Walk one info block, calling `rec` for each record with its section's lists. */
  const block = (hdrField: number, minRec: number, what: string, rec: (into: BtfExtSection, p: number) => void): void => {
    const off = dv.getUint32(hdrField, le);
    const len = dv.getUint32(hdrField + 4, le);
    if (len === 0) return;
    const start = hdrLen + off;
    if (off % 4 !== 0) throw new BtfError(hdrField, `BTF.ext: ${what} offset ${off} is not 4-byte aligned`);
    if (start > bytes.length || len > bytes.length - start)
      throw new BtfError(hdrField, `BTF.ext: ${what} [${off}, +${len}) exceeds the section`);
    const end = start + len;
    if (len < 4) throw new BtfError(start, `BTF.ext: ${what} too short for its record size`);
    const recSize = dv.getUint32(start, le);
    if (recSize < minRec || recSize % 4 !== 0 || recSize > 1024)
      throw new BtfError(start, `BTF.ext: ${what} record size ${recSize} invalid (need >= ${minRec}, multiple of 4)`);
    let p = start + 4;
    while (p < end) {
      if (end - p < 8) throw new BtfError(p, `BTF.ext: truncated ${what} section header`);
      const name = str(dv.getUint32(p, le), p, `${what} section name`);
      const num = dv.getUint32(p + 4, le);
      if (num === 0) throw new BtfError(p + 4, `BTF.ext: ${what} for '${name}' has no records`);
      p += 8;
      if (num > (end - p) / recSize) throw new BtfError(p - 4, `BTF.ext: ${num} ${what} records for '${name}' exceed the section`);
      const into = sec(name);
      for (let i = 0; i < num; i++, p += recSize) rec(into, p);
    }
  };
  block(8, 8, 'func_info', (into, p) => {
    into.funcInfo.push({ insnOff: insnOff(dv.getUint32(p, le), p), typeId: typeId(dv.getUint32(p + 4, le), p + 4) });
  });
  block(16, 16, 'line_info', (into, p) => {
    const lineCol = dv.getUint32(p + 12, le);
    into.lineInfo.push({
      insnOff: insnOff(dv.getUint32(p, le), p),
      fileName: str(dv.getUint32(p + 4, le), p + 4, 'line_info file name'),
      line: str(dv.getUint32(p + 8, le), p + 8, 'line_info line'),
      // BPF_LINE_INFO_LINE_NUM / _LINE_COL: line in the upper 22 bits, column in the low 10
      lineNum: lineCol >>> 10,
      lineCol: lineCol & 0x3ff,
    });
  });
  if (hdrLen >= 32) {
    block(24, 16, 'core_relo', (into, p) => {
      const kind = dv.getUint32(p + 12, le);
      const k = CORE_RELO_KINDS[kind];
      if (k === undefined) throw new BtfError(p + 12, `BTF.ext: unknown CO-RE relocation kind ${kind}`);
      const relos = into.coreRelos;
      relos.push({
        reloIdx: relos.length,
        insnOff: insnOff(dv.getUint32(p, le), p),
        typeId: typeId(dv.getUint32(p + 4, le), p + 4),
        accessStr: str(dv.getUint32(p + 8, le), p + 8, 'CO-RE access'),
        kind: k,
      });
    });
  }
  return { sections };
}
