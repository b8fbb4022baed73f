/**
 * Writing BPF relocatable objects: the inverse of the reader for what an
 * assembler produces (programs, a license, BTF-defined maps), laid out the
 * way clang lays out its output so llvm-objdump, llvm-readelf, libbpf and
 * bpftool read it like any other object:
 *
 * - each program is a global STT_FUNC symbol in its section (programs that
 *   share a section are concatenated, as `SEC("xdp")` functions are);
 * - bpf-to-bpf callees (targets of `call` with src = BPF_PSEUDO_CALL and of
 *   `lddw` with src = BPF_PSEUDO_FUNC) are split off into `.text` as static
 *   functions, each call becoming an R_BPF_64_32 (or R_BPF_64_64) relocation
 *   against the `.text` section symbol with the callee's position in the
 *   imm, exactly as clang writes calls to static functions. libbpf then
 *   appends them back (the kernel needs the calls to go through subprogram
 *   boundaries it can see, and libbpf refuses calls into a main program);
 * - maps become `.maps` variables described by BTF (`__uint(type, ...)`
 *   style pointer-to-array members), referenced by R_BPF_64_64 relocations
 *   on the `lddw` instructions the program's `references` name.
 */
import { calleeStart, isJump, isPseudoCall, isPseudoFunc, jumpTarget } from '../isa/control-flow.js';
import { TsbpfError } from '../errors.js';
import { encode, type Insn } from '../isa/insn.js';
import { BPF_PSEUDO_MAP_FD, OP_LDDW } from '../isa/opcodes.js';
import { Btf, type BtfType, type Member } from './btf/index.js';
import {
  EM_BPF,
  ET_REL,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_PROGBITS,
  SHT_REL,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from './elf.js';
import { MapType, type InsnReference, type MapTypeName } from './spec.js';

export interface WriteProgram {
  name: string;
  /** ELF section, e.g. `xdp`, `socket`, `kprobe/do_sys_open` */
  section: string;
  insns: readonly Insn[];
  /** map references by lddw index (kind 'map'); other kinds are not written */
  references?: readonly InsnReference[];
}

export interface WriteMap {
  name: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  /** array_of_maps / hash_of_maps: the inner map template (written as `__array(values, struct {...})`) */
  innerMap?: WriteMap;
}

export interface WriteObjectInput {
  programs: readonly WriteProgram[];
  /** the `license` section; default "GPL" (helpers such as bpf_trace_printk need a GPL-compatible one) */
  license?: string;
  maps?: readonly WriteMap[];
  /** byte order; default little-endian */
  endian?: 'le' | 'be';
  /** the source file name the BTF line info names (default `tsbpf.s`) */
  fileName?: string;
}

/** Why an object could not be written (bad input, not a bad file). */
export class ObjectWriteError extends TsbpfError {
  constructor(reason: string, errno: 'EINVAL' | 'ENOTSUPP' | 'EEXIST' = 'EINVAL') {
    super(errno, `writeObject: ${reason}`);
  }
}

const SHF_INFO_LINK = 0x40;
const SLOT = 8;
/** Members of a written map definition, in order: each an 8-byte pointer in `.maps`. */
const MAP_FIELDS = ['type', 'key_size', 'value_size', 'max_entries', 'map_flags'] as const;

interface OutSym {
  name: string;
  value: number;
  size: number;
  bind: number;
  type: number;
  /** section key (resolved to an index at the end) or null for SHN_UNDEF */
  section: string | null;
}
interface OutRel {
  offset: number;
  symbol: OutSym;
  type: number;
}
interface OutSection {
  name: string;
  type: number;
  flags: number;
  align: number;
  data: Uint8Array;
  entsize?: number;
  rels?: OutRel[];
}

class StrTab {
  private bytes: number[] = [0];
  private index = new Map<string, number>([['', 0]]);
  add(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.bytes.length;
      for (const b of new TextEncoder().encode(s)) this.bytes.push(b);
      this.bytes.push(0);
      this.index.set(s, i);
    }
    return i;
  }
  get data(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A program split into its main part and the subprograms its calls reach. */
function split(p: WriteProgram): { main: Insn[]; subs: Array<{ start: number; insns: Insn[] }> } {
  const n = p.insns.length;
  const targets = new Set<number>();
  for (let i = 0; i < n; i++) {
    const ins = p.insns[i]!;
    const call = isPseudoCall(ins);
    if (!call && !isPseudoFunc(ins)) continue;
    const t = calleeStart(ins, i);
    if (t <= 0 || t >= n)
      throw new ObjectWriteError(`program '${p.name}': insn ${i}: ${call ? 'call' : 'function address'} target ${t} is ${t === 0 ? 'the program itself' : 'outside the program'}`);
    targets.add(t);
  }
  const cuts = [...targets].sort((a, b) => a - b);
  const main = p.insns.slice(0, cuts[0] ?? n).map((i) => ({ ...i }));
  const subs = cuts.map((start, k) => ({ start, insns: p.insns.slice(start, cuts[k + 1] ?? n).map((i) => ({ ...i })) }));
  // Jumps may not cross a function boundary (the kernel refuses that too).
  const bounds = [0, ...cuts, n];
  for (let f = 0; f + 1 < bounds.length; f++) {
    const lo = bounds[f]!;
    const hi = bounds[f + 1]!;
    for (let i = lo; i < hi; i++) {
      const ins = p.insns[i]!;
      if (isJump(ins)) {
        const t = jumpTarget(ins, i);
        if (t < lo || t >= hi) throw new ObjectWriteError(`program '${p.name}': insn ${i}: jump to ${t} leaves its function [${lo}, ${hi})`);
      }
      if (ins.code === OP_LDDW) i++;
    }
  }
  return { main, subs };
}

/** A function the BTF describes (for func_info): where it is and how it links. */
interface BtfFunc {
  name: string;
  section: string;
  /** byte offset in its section */
  offset: number;
  linkage: 'global' | 'static';
}

/**
 * BTF for the object: the `.maps` variables (each attribute a pointer to an
 * array whose length is the value, as `__uint()` writes it) and one FUNC per
 * function. The kernel wants func_info (hence FUNCs) as soon as a program
 * uses a callback, and bpftool shows function names from it.
 */
/** A BTF type before it has an id (Omit applied to each member of the union). */
type NewBtfType = BtfType extends infer T ? (T extends BtfType ? Omit<T, 'id'> : never) : never;

function objectBtf(maps: readonly WriteMap[], offsets: number[], funcs: readonly BtfFunc[]): { btf: Btf; funcIds: number[] } {
  const types: BtfType[] = [{ id: 0, kind: 'void', name: '' }];
  const add = (t: NewBtfType): number => {
    const id = types.length;
    types.push({ ...t, id } as BtfType);
    return id;
  };
  const int = add({ kind: 'int', name: 'int', size: 4, encoding: { signed: true, char: false, bool: false }, bits: 32, offset: 0 });
  const funcIds: number[] = [];
  if (funcs.length) {
    // int f(void *ctx): the verifier checks argument types only for global
    // subprograms, which the writer never makes.
    const voidPtr = add({ kind: 'ptr', name: '', typeId: 0 });
    const proto = add({ kind: 'func_proto', name: '', returnTypeId: int, params: [{ name: 'ctx', typeId: voidPtr }] });
    for (const f of funcs) funcIds.push(add({ kind: 'func', name: f.name, typeId: proto, linkage: f.linkage }));
  }
  if (maps.length) {
    const idx = add({ kind: 'int', name: '__ARRAY_SIZE_TYPE__', size: 4, encoding: { signed: false, char: false, bool: false }, bits: 32, offset: 0 });
    const ptrTo = new Map<number, number>();
    const uintPtr = (v: number): number => {
      let id = ptrTo.get(v);
      if (id === undefined) {
        const arr = add({ kind: 'array', name: '', elemTypeId: int, indexTypeId: idx, nelems: v });
        id = add({ kind: 'ptr', name: '', typeId: arr });
        ptrTo.set(v, id);
      }
      return id;
    };
    const definition = (m: WriteMap): number => {
      const values = [MapType[m.type], m.keySize, m.valueSize, m.maxEntries, m.flags ?? 0];
      const members: Member[] = MAP_FIELDS.map((name, j) => ({ name, typeId: uintPtr(values[j]!), bitOffset: j * 64, bitfieldSize: 0 }));
      if (m.innerMap) {
        // __array(values, struct {...}): a zero-length array of pointers to the inner definition
        const inner = add({ kind: 'ptr', name: '', typeId: definition(m.innerMap) });
        const arr = add({ kind: 'array', name: '', elemTypeId: inner, indexTypeId: idx, nelems: 0 });
        members.push({ name: 'values', typeId: arr, bitOffset: MAP_FIELDS.length * 64, bitfieldSize: 0 });
      }
      return add({ kind: 'struct', name: '', size: MAP_FIELDS.length * SLOT, members, kindFlag: false });
    };
    const vars: Array<{ typeId: number; offset: number; size: number }> = [];
    maps.forEach((m, k) => {
      const st = definition(m);
      const v = add({ kind: 'var', name: m.name, typeId: st, linkage: 'global' });
      vars.push({ typeId: v, offset: offsets[k]!, size: MAP_FIELDS.length * SLOT });
    });
    add({ kind: 'datasec', name: '.maps', size: maps.length * MAP_FIELDS.length * SLOT, vars });
  }
  return { btf: Btf.fromTypes(types), funcIds };
}

/**
 * Append strings to an encoded BTF blob's string section (which the encoder
 * places last), returning the new blob and each string's offset: .BTF.ext
 * names sections by BTF string offsets.
 */
export function appendBtfStrings(blob: Uint8Array, le: boolean, strings: readonly string[]): { bytes: Uint8Array; offsets: Map<string, number> } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hdrLen = dv.getUint32(4, le);
  const strOff = dv.getUint32(16, le);
  const strLen = dv.getUint32(20, le);
  if (hdrLen + strOff + strLen !== blob.length) throw new ObjectWriteError('internal: the BTF string section is not at the end of the blob');
  const existing = blob.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  const text = new TextDecoder().decode(existing);
  const extra: number[] = [];
  const offsets = new Map<string, number>();
  for (const s of strings) {
    if (offsets.has(s)) continue;
    const at = text.indexOf(s + '\0');
    if (at >= 0 && (at === 0 || text[at - 1] === '\0')) {
      offsets.set(s, at);
      continue;
    }
    offsets.set(s, strLen + extra.length);
    for (const b of new TextEncoder().encode(s)) extra.push(b);
    extra.push(0);
  }
  const out = new Uint8Array(blob.length + extra.length);
  out.set(blob);
  out.set(extra, blob.length);
  new DataView(out.buffer).setUint32(20, strLen + extra.length, le);
  return { bytes: out, offsets };
}

/**
 * .BTF.ext (struct btf_ext_header): func_info, and one line_info record per
 * function start (the kernel wants line info at every subprogram start once
 * a program has any, and libbpf warns when a main program has none), naming
 * `fileName` line 1; no CO-RE records.
 */
function btfExt(le: boolean, funcs: readonly BtfFunc[], funcIds: readonly number[], strOff: Map<string, number>, fileName: string): Uint8Array {
  const bySection = new Map<string, Array<{ offset: number; typeId: number }>>();
  funcs.forEach((f, i) => {
    const l = bySection.get(f.section) ?? [];
    l.push({ offset: f.offset, typeId: funcIds[i]! });
    bySection.set(f.section, l);
  });
  for (const l of bySection.values()) l.sort((a, b) => a.offset - b.offset);
  const blockLen = (rec: number): number => 4 + [...bySection.values()].reduce((n, l) => n + 8 + l.length * rec, 0);
  const funcLen = blockLen(8);
  const lineLen = blockLen(16);
  const HDR = 32;
  const out = new Uint8Array(HDR + funcLen + lineLen);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, le);
  out[2] = 1; // version
  dv.setUint32(4, HDR, le);
  dv.setUint32(8, 0, le); // func_info_off
  dv.setUint32(12, funcLen, le);
  dv.setUint32(16, funcLen, le); // line_info_off
  dv.setUint32(20, lineLen, le);
  dv.setUint32(24, funcLen + lineLen, le); // core_relo_off (empty)
  dv.setUint32(28, 0, le);
  let p = HDR;
  const block = (recSize: number, write: (r: { offset: number; typeId: number }) => void): void => {
    dv.setUint32(p, recSize, le);
    p += 4;
    for (const [sec, l] of bySection) {
      dv.setUint32(p, strOff.get(sec)!, le);
      dv.setUint32(p + 4, l.length, le);
      p += 8;
      for (const r of l) {
        write(r);
        p += recSize;
      }
    }
  };
  block(8, (r) => {
    dv.setUint32(p, r.offset, le);
    dv.setUint32(p + 4, r.typeId, le);
  });
  block(16, (r) => {
    dv.setUint32(p, r.offset, le);
    dv.setUint32(p + 4, strOff.get(fileName)!, le);
    dv.setUint32(p + 8, 0, le); // the line's text: ''
    dv.setUint32(p + 12, (1 << 10) | 1, le); // line 1, column 1
  });
  return out;
}

/** What the kernel accepts in object names (bpf_obj_name_cpy): letters, digits, '_' and '.'. */
const NAME_RE = /^[A-Za-z0-9_.]+$/;

/** Build an ELF64 relocatable BPF object. */
export function writeObject(input: WriteObjectInput): Uint8Array {
  const endian = input.endian ?? 'le';
  const le = endian === 'le';
  const programs = input.programs;
  const maps = input.maps ?? [];
  if (programs.length === 0) throw new ObjectWriteError('no programs');

  const names = new Set<string>();
  const claim = (name: string, what: string): void => {
    if (!NAME_RE.test(name)) throw new ObjectWriteError(`${what} name '${name}' may only hold letters, digits, '_' and '.'`);
    if (names.has(name)) throw new ObjectWriteError(`two symbols are named '${name}'`, 'EEXIST');
    names.add(name);
  };
  for (const p of programs) {
    claim(p.name, 'program');
    if (p.insns.length === 0) throw new ObjectWriteError(`program '${p.name}' has no instructions`);
    if (!p.section || p.section.includes('\0') || p.section === '.text' || p.section.startsWith('.rel'))
      throw new ObjectWriteError(`program '${p.name}': section '${p.section}' cannot hold a program`);
  }
  for (const m of maps) {
    claim(m.name, 'map');
    for (let d: WriteMap | undefined = m, depth = 0; d; d = d.innerMap, depth++) {
      if (!(d.type in MapType)) throw new ObjectWriteError(`map '${m.name}': unknown type '${d.type}'`);
      if (depth > 1) throw new ObjectWriteError(`map '${m.name}': inner maps cannot have inner maps`);
      for (const [k, v] of Object.entries({ keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, flags: d.flags ?? 0 }))
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ObjectWriteError(`map '${m.name}': ${k} ${v} is not a u32`);
    }
  }

  // Symbols: locals first (the gABI wants them before the globals).
  const textSym: OutSym = { name: '', value: 0, size: 0, bind: STB_LOCAL, type: STT_SECTION, section: '.text' };
  const locals: OutSym[] = [];
  const globals: OutSym[] = [];
  const mapSyms = new Map<string, OutSym>();
  const mapOffsets = maps.map((_, k) => k * MAP_FIELDS.length * SLOT);
  maps.forEach((m, k) => {
    const s: OutSym = { name: m.name, value: mapOffsets[k]!, size: MAP_FIELDS.length * SLOT, bind: STB_GLOBAL, type: STT_OBJECT, section: '.maps' };
    mapSyms.set(m.name, s);
  });

  const text: Insn[] = [];
  const textRels: OutRel[] = [];
  const bySection = new Map<string, { insns: Insn[]; rels: OutRel[] }>();
  const progSyms: OutSym[] = [];
  let subCount = 0;

  for (const p of programs) {
    const { main, subs } = split(p);
    const refs = new Map<number, InsnReference>();
    for (const r of p.references ?? []) refs.set(r.index, r);
    // Where each subprogram lands in .text.
    const subAt = new Map<number, number>();
    for (const s of subs) {
      subAt.set(s.start, text.length);
      let name: string;
      do name = `${p.name}__sub${subCount++}`;
      while (names.has(name));
      names.add(name);
      locals.push({ name, value: text.length * SLOT, size: s.insns.length * SLOT, bind: STB_LOCAL, type: STT_FUNC, section: '.text' });
      text.push(...s.insns);
    }
    const sec = bySection.get(p.section) ?? { insns: [], rels: [] };
    bySection.set(p.section, sec);
    const mainBase = sec.insns.length;
    progSyms.push({ name: p.name, value: mainBase * SLOT, size: main.length * SLOT, bind: STB_GLOBAL, type: STT_FUNC, section: p.section });
    sec.insns.push(...main);

    // Rewrite one function's code: calls/addresses into .text relocations, map lddws into map relocations.
    const fix = (code: Insn[], origin: number, base: number, rels: OutRel[]): void => {
      for (let j = 0; j < code.length; j++) {
        const ins = code[j]!;
        const i = origin + j; // index in the caller's original program
        const ref = refs.get(i);
        if (isPseudoCall(ins)) {
          const dest = subAt.get(calleeStart(ins, i))!;
          ins.imm = dest - 1; // "section symbol + (imm + 1) slots"
          rels.push({ offset: (base + j) * SLOT, symbol: textSym, type: R_BPF_64_32 });
        } else if (ins.code === OP_LDDW) {
          if (j + 1 >= code.length) throw new ObjectWriteError(`program '${p.name}': insn ${i}: lddw without its second slot`);
          if (isPseudoFunc(ins)) {
            const dest = subAt.get(calleeStart(ins, i))!;
            ins.src = 0;
            ins.imm = dest * SLOT; // byte offset, the addend of a section-symbol relocation
            rels.push({ offset: (base + j) * SLOT, symbol: textSym, type: R_BPF_64_64 });
          } else if (ref) {
            if (ref.kind !== 'map' || !ref.map) throw new ObjectWriteError(`program '${p.name}': insn ${i}: ${ref.kind} references are not supported`, 'ENOTSUPP');
            const ms = mapSyms.get(ref.map);
            if (!ms) throw new ObjectWriteError(`program '${p.name}': insn ${i}: no map named '${ref.map}'`);
            if (ins.src !== 0 && ins.src !== BPF_PSEUDO_MAP_FD) throw new ObjectWriteError(`program '${p.name}': insn ${i}: map reference on an lddw with src ${ins.src}`);
            ins.src = 0;
            ins.imm = 0;
            code[j + 1]!.imm = 0;
            rels.push({ offset: (base + j) * SLOT, symbol: ms, type: R_BPF_64_64 });
          } else if (ins.src !== 0) {
            throw new ObjectWriteError(`program '${p.name}': insn ${i}: lddw with pseudo source ${ins.src} needs a map reference`, 'ENOTSUPP');
          }
          j++;
        } else if (ref) {
          throw new ObjectWriteError(`program '${p.name}': insn ${i}: a ${ref.kind} reference on an instruction that is not lddw`);
        }
      }
    };
    fix(main, 0, mainBase, sec.rels);
    for (const s of subs) fix(s.insns, s.start, subAt.get(s.start)!, textRels);
    for (const r of refs.keys())
      if (r < 0 || r >= p.insns.length) throw new ObjectWriteError(`program '${p.name}': reference at insn ${r} is outside the program`);
  }
  globals.push(...progSyms, ...mapSyms.values());

  // Sections in clang's order: code, relocations beside it, data, BTF, symbols.
  const sections: OutSection[] = [];
  const code = (name: string, insns: Insn[], rels: OutRel[]): void => {
    sections.push({ name, type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, align: SLOT, data: encode(insns, endian), rels });
  };
  if (text.length) code('.text', text, textRels);
  for (const [name, s] of bySection) code(name, s.insns, s.rels);
  if (maps.length) sections.push({ name: '.maps', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, align: SLOT, data: new Uint8Array(maps.length * MAP_FIELDS.length * SLOT) });
  const license = new TextEncoder().encode((input.license ?? 'GPL') + '\0');
  sections.push({ name: 'license', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, align: 1, data: license });
  globals.push({ name: 'LICENSE', value: 0, size: license.length, bind: STB_GLOBAL, type: STT_OBJECT, section: 'license' });
  {
    const funcs: BtfFunc[] = [
      ...progSyms.map((f) => ({ name: f.name, section: f.section!, offset: f.value, linkage: 'global' as const })),
      ...locals.map((f) => ({ name: f.name, section: '.text', offset: f.value, linkage: 'static' as const })),
    ];
    const { btf, funcIds } = objectBtf(maps, mapOffsets, funcs);
    const fileName = input.fileName ?? 'tsbpf.s';
    const { bytes, offsets } = appendBtfStrings(btf.encode(endian), le, [...funcs.map((f) => f.section), fileName]);
    sections.push({ name: '.BTF', type: SHT_PROGBITS, flags: 0, align: 4, data: bytes });
    sections.push({ name: '.BTF.ext', type: SHT_PROGBITS, flags: 0, align: 4, data: btfExt(le, funcs, funcIds, offsets, fileName) });
  }

  // Section indices: 0 null, 1 .strtab, then the sections above each followed by its .rel, then .symtab.
  const strtab = new StrTab();
  const ordered: Array<OutSection & { link?: number; info?: number; target?: OutSection }> = [];
  ordered.push({ name: '.strtab', type: SHT_STRTAB, flags: 0, align: 1, data: new Uint8Array(0) });
  for (const s of sections) {
    ordered.push(s);
    if (s.rels && s.rels.length) ordered.push({ name: `.rel${s.name}`, type: SHT_REL, flags: SHF_INFO_LINK, align: SLOT, entsize: 16, data: new Uint8Array(0), target: s });
  }
  ordered.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0, align: SLOT, entsize: 24, data: new Uint8Array(0) });
  const indexOf = new Map<string, number>();
  ordered.forEach((s, i) => indexOf.set(s.name, i + 1));
  const symtabIndex = ordered.length; // 1-based index of .symtab

  const symbols: OutSym[] = [{ name: '', value: 0, size: 0, bind: STB_LOCAL, type: 0, section: null }];
  if (text.length) symbols.push(textSym);
  symbols.push(...locals, ...globals);
  const firstGlobal = symbols.findIndex((s) => s.bind !== STB_LOCAL);
  const symIndex = new Map<OutSym, number>(symbols.map((s, i) => [s, i]));

  // .symtab contents
  const symData = new Uint8Array(symbols.length * 24);
  const sdv = new DataView(symData.buffer);
  symbols.forEach((s, i) => {
    const p = i * 24;
    sdv.setUint32(p, s.name ? strtab.add(s.name) : 0, le);
    symData[p + 4] = (s.bind << 4) | s.type;
    symData[p + 5] = 0;
    sdv.setUint16(p + 6, s.section === null ? 0 : indexOf.get(s.section)!, le);
    sdv.setBigUint64(p + 8, BigInt(s.value), le);
    sdv.setBigUint64(p + 16, BigInt(s.size), le);
  });
  // .rel* contents
  for (const s of ordered) {
    if (!s.target) continue;
    const rels = s.target.rels!;
    s.data = new Uint8Array(rels.length * 16);
    const dv = new DataView(s.data.buffer);
    rels.forEach((r, i) => {
      dv.setBigUint64(i * 16, BigInt(r.offset), le);
      dv.setBigUint64(i * 16 + 8, (BigInt(symIndex.get(r.symbol)!) << 32n) | BigInt(r.type), le);
    });
    s.link = symtabIndex;
    s.info = indexOf.get(s.target.name)!;
  }
  const symtab = ordered[ordered.length - 1]!;
  symtab.data = symData;
  symtab.link = 1;
  symtab.info = firstGlobal < 0 ? symbols.length : firstGlobal;
  for (const s of ordered) strtab.add(s.name);
  ordered[0]!.data = strtab.data;

  // Layout: header, contents (aligned), section header table.
  let off = 64;
  const offsets: number[] = [];
  for (const s of ordered) {
    off = Math.ceil(off / s.align) * s.align;
    offsets.push(off);
    off += s.data.length;
  }
  const shoff = Math.ceil(off / 8) * 8;
  const shnum = ordered.length + 1;
  const out = new Uint8Array(shoff + shnum * 64);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, le ? 1 : 2, 1, 0]);
  dv.setUint16(16, ET_REL, le);
  dv.setUint16(18, EM_BPF, le);
  dv.setUint32(20, 1, le);
  dv.setBigUint64(40, BigInt(shoff), le);
  dv.setUint16(52, 64, le);
  dv.setUint16(58, 64, le);
  dv.setUint16(60, shnum, le);
  dv.setUint16(62, 1, le);
  ordered.forEach((s, k) => {
    out.set(s.data, offsets[k]!);
    const h = shoff + (k + 1) * 64;
    dv.setUint32(h, strtab.add(s.name), le);
    dv.setUint32(h + 4, s.type, le);
    dv.setBigUint64(h + 8, BigInt(s.flags), le);
    dv.setBigUint64(h + 24, BigInt(offsets[k]!), le);
    dv.setBigUint64(h + 32, BigInt(s.data.length), le);
    dv.setUint32(h + 40, s.link ?? 0, le);
    dv.setUint32(h + 44, s.info ?? 0, le);
    dv.setBigUint64(h + 48, BigInt(s.align), le);
    dv.setBigUint64(h + 56, BigInt(s.entsize ?? 0), le);
  });
  return out;
}
