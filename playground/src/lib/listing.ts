/**
 * A program as the assembly editor shows it, and back.
 *
 * To text: each function starts with its name as a label (from BTF
 * func_info), each C source line (BTF line_info) is a comment
 * `; <source> @ <file>:<line>:<col>` above its first instruction (records
 * of the same line at other columns are not repeated), jumps go
 * to `L<slot>` labels, and map references are `map[idx:K]` with K the map's
 * index in the object (the assembler's BPF_PSEUDO_MAP_IDX form).
 *
 * Back: the assembler reads the text, and the comments and labels give the
 * edited program its line_info and func_info again, so a rejection of an
 * edited program still names the C line; map_idx lddws become references
 * to the maps by name, as the object reader leaves them.
 */
import {
  assembleListing, formatInsn, isa, type Btf, type CollectionSpec, type ProgramSpec,
} from '../../../src/core.js';

type LineInfo = NonNullable<ProgramSpec['lineInfo']>[number];
type FuncInfo = NonNullable<ProgramSpec['funcInfo']>[number];

/** The C source line of slot `i`: the last line_info record at or before it. */
export function lineInfoAt(lineInfo: readonly LineInfo[] | undefined, i: number): LineInfo | undefined {
  let best: LineInfo | undefined;
  for (const l of lineInfo ?? []) if (l.insnOff <= i && (!best || l.insnOff >= best.insnOff)) best = l;
  return best;
}

function funcName(btf: Btf | undefined, f: FuncInfo, fallback: string): string {
  try {
    const n = btf?.nameOf(f.typeId);
    return n && /^[A-Za-z_][\w]*$/.test(n) ? n : fallback;
  } catch {
    return fallback;
  }
}

/** The editor text of program `ps` of collection `coll`. */
export function toListing(coll: CollectionSpec, ps: ProgramSpec): string {
  const mapNames = [...coll.maps.keys()];
  const refs = new Map(ps.references.map((r) => [r.index, r]));
  const funcs = new Map<number, string>();
  for (const f of ps.funcInfo ?? []) funcs.set(f.insnOff, funcName(coll.btf, f, f.insnOff === 0 ? ps.name : `func_${f.insnOff}`));
  if (!funcs.has(0)) funcs.set(0, ps.name);
  const targets = new Set<number>();
  const opts = {
    dialect: 'kernel' as const,
    labelOf: (i: number): string => {
      const f = funcs.get(i);
      if (f !== undefined) return f;
      targets.add(i);
      return `L${i}`;
    },
    imm64: (insns: readonly isa.Insn[], i: number): string | undefined => {
      const r = refs.get(i);
      if (!r || !r.map) return undefined;
      const k = mapNames.indexOf(r.map);
      if (r.kind === 'map') return `map[idx:${k}]`;
      if (r.kind === 'map_value') return `map[idx:${k}][0]+${insns[i + 1]!.imm >>> 0}`;
      return undefined;
    },
  };
  const rows: Array<{ i: number; text: string }> = [];
  for (let i = 0; i < ps.insns.length; i += isa.insnSlots(ps.insns, i)) rows.push({ i, text: formatInsn(ps.insns, i, opts) });
  const lines: string[] = [];
  const lineAt = new Map((ps.lineInfo ?? []).map((l) => [l.insnOff, l]));
  let shown: LineInfo | undefined;
  for (const { i, text } of rows) {
    const f = funcs.get(i);
    if (f !== undefined) {
      if (lines.length) lines.push('');
      lines.push(`${f}:`);
    } else if (targets.has(i)) lines.push(`L${i}:`);
    const li = lineAt.get(i);
    // One comment per C line: records that differ only in column are not repeated.
    if (li && (li.lineNum !== shown?.lineNum || li.fileName !== shown.fileName || f !== undefined)) {
      shown = li;
      lines.push(`; ${li.line.trim()} @ ${li.fileName}:${li.lineNum}:${li.lineCol}`);
    }
    lines.push(`    ${text}`);
  }
  return lines.join('\n') + '\n';
}

const SOURCE_COMMENT = /^\s*;\s?(.*) @ (.+):(\d+):(\d+)\s*$/;

export interface ParsedListing {
  spec: ProgramSpec;
  /** 0-based editor line -> slot */
  slotOfLine: Map<number, number>;
}

/**
 * The program the editor text describes, as a ProgramSpec in place of
 * `orig` (same name, type, license and section). Throws the assembler's
 * AsmError (with its line) when the text does not assemble.
 */
export function fromListing(text: string, coll: CollectionSpec, orig: ProgramSpec): ParsedListing {
  const asm = assembleListing(text, { dialect: 'kernel' });
  const insns = asm.insns;
  const mapNames = [...coll.maps.keys()];
  const references: ProgramSpec['references'] = [];
  for (let i = 0; i < insns.length; i += isa.insnSlots(insns, i)) {
    const ins = insns[i]!;
    if (ins.code !== isa.OP_LDDW) continue;
    if (ins.src === isa.BPF_PSEUDO_MAP_IDX || ins.src === isa.BPF_PSEUDO_MAP_IDX_VALUE) {
      const name = mapNames[ins.imm];
      if (name === undefined) continue; // left as map_idx: the loader says the index is unknown
      const value = ins.src === isa.BPF_PSEUDO_MAP_IDX_VALUE;
      insns[i] = { ...ins, src: value ? isa.BPF_PSEUDO_MAP_VALUE : isa.BPF_PSEUDO_MAP_FD, imm: 0 };
      references.push({ index: i, kind: value ? 'map_value' : 'map', map: name });
    }
  }
  // line_info from the source comments: each applies to the next instruction.
  const lines = text.split(/\r?\n/);
  const slotOfLine = new Map<number, number>();
  for (const [line, slot] of asm.slotOfLine) slotOfLine.set(line - 1, slot);
  const lineInfo: LineInfo[] = [];
  let pending: Omit<LineInfo, 'insnOff'> | undefined;
  lines.forEach((l, n) => {
    const m = SOURCE_COMMENT.exec(l);
    if (m) pending = { line: m[1]!, fileName: m[2]!, lineNum: Number(m[3]), lineCol: Number(m[4]) };
    const slot = slotOfLine.get(n);
    if (slot !== undefined && pending) {
      lineInfo.push({ insnOff: slot, ...pending });
      pending = undefined;
    }
  });
  // func_info from the labels that name the original's functions.
  const typeByName = new Map<string, number>();
  for (const f of orig.funcInfo ?? []) typeByName.set(funcName(coll.btf, f, ''), f.typeId);
  const funcInfo: FuncInfo[] = [];
  for (const [name, slot] of asm.labels) {
    const typeId = typeByName.get(name);
    if (typeId !== undefined && slot < insns.length) funcInfo.push({ insnOff: slot, typeId });
  }
  funcInfo.sort((a, b) => a.insnOff - b.insnOff);
  const spec: ProgramSpec = { ...orig, insns, references };
  delete spec.lineInfo;
  delete spec.funcInfo;
  delete spec.coreRelos;
  if (lineInfo.length) spec.lineInfo = lineInfo;
  // The kernel wants func_info for every function or none (check_btf_func).
  if (funcInfo.length && funcInfo[0]!.insnOff === 0 && funcInfo.length === (orig.funcInfo?.length ?? -1)) spec.funcInfo = funcInfo;
  return { spec, slotOfLine };
}

/** A collection with program `name` replaced. */
export function withProgram(coll: CollectionSpec, ps: ProgramSpec): CollectionSpec {
  const programs = new Map(coll.programs);
  programs.set(ps.name, ps);
  return { ...coll, programs };
}

/** An object of one program typed from scratch: no maps, no BTF. */
export function scratchCollection(type: ProgramSpec['type'] = 'xdp'): CollectionSpec {
  const ps: ProgramSpec = { name: 'prog', section: type, type, license: 'GPL', insns: [], references: [] };
  return { objectName: 'scratch', programs: new Map([['prog', ps]]), maps: new Map(), endian: 'le' };
}
