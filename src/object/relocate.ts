/**
 * Relocations of program code, and linking each program with the
 * subprograms it calls, as libbpf does at load time:
 *
 * - R_BPF_64_64 on an `lddw`: a map (src = BPF_PSEUDO_MAP_FD), global data
 *   (src = BPF_PSEUDO_MAP_VALUE, with the byte offset into the value, symbol
 *   value plus the addend clang left in the first imm, moved to the second
 *   slot's imm as the kernel's ABI wants it), a function address for
 *   callbacks (src = BPF_PSEUDO_FUNC), or an extern `__ksym` variable
 *   (src = BPF_PSEUDO_BTF_ID).
 * - R_BPF_64_32 on a `call`: a bpf-to-bpf call (src = BPF_PSEUDO_CALL) to a
 *   function, or to an extern function: a kfunc (src = BPF_PSEUDO_KFUNC_CALL).
 *
 * Linking appends to a program every subprogram reachable from it, each once,
 * in the order libbpf's depth-first walk discovers them, and rewrites each
 * call's imm to the distance to the appended copy (imm = target - (pc + 1)).
 * Map ids are not known here: `references` names the map of each lddw and
 * the runtime patches the imm when it creates the maps.
 *
 * CO-RE is the last relocation and the only one that needs the load's
 * target BTF (`coreRelocated`, at the end): libbpf's bpf_object__relocate
 * applies it before the kernel ever verifies, so every loader (the
 * runtime's, the kernel backend's, `tsbpf prog load`) links here first.
 */
import { calleeStart, isPseudoCall } from '../isa/control-flow.js';
import { TsbpfError } from '../errors.js';
import { cloneInsns, type Insn } from '../isa/insn.js';
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  OP_CALL,
  OP_LDDW,
} from '../isa/opcodes.js';
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_NONE,
  SHN_LORESERVE,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_WEAK,
  STT_SECTION,
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
} from './elf.js';
import type { MapLocation } from './maps.js';
import type { InsnReference, ProgramSpec } from './spec.js';
import type { Btf } from './btf/btf.js';
import { applyCoreRelocations, type CoreCandCache, type CoreLog, type CoreModules } from './btf/core.js';
import { contextBtf } from './btf/context.js';
import type { CoreRelo } from './btf/ext.js';

/** A relocation the object layer cannot resolve: names the symbol and the instruction. */
export class RelocationError extends TsbpfError {
  constructor(
    readonly func: string,
    readonly insnIndex: number,
    readonly symbol: string,
    readonly reason: string,
    errno: 'EINVAL' | 'ENOTSUPP' = 'EINVAL',
  ) {
    super(errno, `${func}: insn ${insnIndex}: relocation against '${symbol}': ${reason}`);
  }
}

/** One function of an executable section: a program or a subprogram. */
export interface Func {
  name: string;
  section: ElfSection;
  /** first slot in its section */
  start: number;
  /** number of slots */
  length: number;
  /** a program in its own right (not in .text) */
  isProgram: boolean;
  symbol: ElfSymbol;
  /** after `relocateFunc`: the instructions with map/data/extern relocations applied */
  insns: Insn[];
  /** after `relocateFunc`: references by slot index within the function */
  references: InsnReference[];
  /** after `relocateFunc`: calls and function addresses by slot index within the function */
  calls: Array<{ index: number; target: Func }>;
}

export interface RelocContext {
  elf: ElfFile;
  /** functions by section index, sorted by start */
  funcs: Map<number, Func[]>;
  /** BTF-defined and legacy maps, by location */
  maps: MapLocation[];
  /** lookup indexes, built by `indexContext` (the input is untrusted: no quadratic scans) */
  funcStarts?: Map<number, Map<number, Func>>;
  mapsAt?: Map<string, MapLocation>;
  /** global data maps by section index */
  dataMaps: Map<number, MapLocation>;
  /** `.kconfig` externs: the map and each extern's offset in its value */
  kconfig?: { map: string; offsets: Map<string, number> };
  /** extern functions the object's BTF declares (libbpf find_extern_btf_id): a `__ksym` extern that is one is a kfunc */
  externFuncs?: ReadonlySet<string>;
}

/** Build the lookup tables relocation needs (once per object). */
export function indexContext(ctx: RelocContext): void {
  ctx.funcStarts = new Map([...ctx.funcs].map(([sec, list]) => [sec, new Map(list.map((f) => [f.start, f]))]));
  ctx.mapsAt = new Map(ctx.maps.map((m) => [`${m.section}:${m.offset}`, m]));
}

function funcAt(ctx: RelocContext, section: number, byteOffset: number): Func | undefined {
  if (byteOffset % 8 !== 0) return undefined;
  if (!ctx.funcStarts) indexContext(ctx);
  return ctx.funcStarts!.get(section)?.get(byteOffset / 8);
}

const isExtern = (s: ElfSymbol): boolean => s.shndx === SHN_UNDEF && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.name !== '';

function symbolName(elf: ElfFile, s: ElfSymbol): string {
  if (s.name) return s.name;
  if (s.type === STT_SECTION) return elf.sections[s.shndx]?.name ?? `section ${s.shndx}`;
  return `symbol ${s.index}`;
}

/**
 * Apply the relocations of one function's slots (`relocs` by slot index in
 * the function's section) and record its calls; fills `fn.insns`,
 * `fn.references`, `fn.calls`.
 */
export function relocateFunc(fn: Func, relocs: ReadonlyArray<ElfRelocation | undefined>, ctx: RelocContext): void {
  const { elf } = ctx;
  const insns = fn.insns;
  fn.references = [];
  fn.calls = [];
  for (let i = 0; i < insns.length; i++) {
    const ins = insns[i]!;
    const rel = relocs[fn.start + i];
    const isCall = ins.code === OP_CALL;
    const isLddw = ins.code === OP_LDDW;
    if (isLddw && i + 1 >= insns.length)
      throw new TsbpfError('EINVAL', `${fn.name}: insn ${i}: lddw is the function's last slot`);
    if (!rel) {
      // A call with no relocation is pc-relative within its own section.
      if (isPseudoCall(ins)) {
        const targetSlot = fn.start + calleeStart(ins, i);
        const target = funcAt(ctx, fn.section.index, targetSlot * 8);
        if (!target)
          throw new TsbpfError('EINVAL', `${fn.name}: insn ${i}: call to slot ${targetSlot} of '${fn.section.name}', which starts no function`);
        fn.calls.push({ index: i, target });
      }
      if (isLddw) i++;
      continue;
    }
    const sym = elf.symbols[rel.symbol]!;
    const name = symbolName(elf, sym);
    const fail = (reason: string, errno: 'EINVAL' | 'ENOTSUPP' = 'EINVAL'): never => {
      throw new RelocationError(fn.name, i, name, reason, errno);
    };
    if (rel.type === R_BPF_NONE) continue;
    if (rel.type !== R_BPF_64_64 && rel.type !== R_BPF_64_32)
      fail(`relocation type ${rel.type} cannot apply to code (expected R_BPF_64_64 or R_BPF_64_32)`);
    if (!isCall && !isLddw) fail(`instruction 0x${ins.code.toString(16).padStart(2, '0')} is neither lddw nor call`);
    // RELA objects carry the addend in the entry, REL ones in the instruction's imm.
    const addend = rel.addend !== undefined ? Number(BigInt.asIntN(32, rel.addend)) : ins.imm;

    if (isExtern(sym)) {
      const kc = ctx.kconfig?.offsets.get(sym.name);
      if (kc !== undefined) {
        // libbpf points the load at the extern's slot in the .kconfig map (ignoring any addend)
        if (isCall) fail('a .kconfig extern cannot be called');
        ins.src = BPF_PSEUDO_MAP_VALUE;
        ins.imm = 0;
        insns[i + 1]!.imm = kc;
        fn.references.push({ index: i, kind: 'map_value', map: ctx.kconfig!.map });
        i++;
        continue;
      }
      if (isCall) {
        // An extern function is a kernel function the verifier resolves by BTF id.
        ins.src = BPF_PSEUDO_KFUNC_CALL;
        ins.imm = 0;
        fn.references.push({ index: i, kind: 'kfunc', symbol: sym.name, ...(sym.bind === STB_WEAK ? { weak: true as const } : {}) });
      } else {
        // An extern variable (__ksym): a kernel symbol's address by BTF id.
        ins.src = BPF_PSEUDO_BTF_ID;
        ins.imm = 0;
        insns[i + 1]!.imm = 0;
        fn.references.push({
          index: i,
          kind: 'btf_id',
          symbol: sym.name,
          ...(ctx.externFuncs?.has(sym.name) ? { ksymFunc: true as const } : {}),
          ...(sym.bind === STB_WEAK ? { weak: true as const } : {}),
        });
        i++;
      }
      continue;
    }
    if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE)
      fail(sym.shndx === SHN_UNDEF ? 'undefined symbol' : `symbol in special section 0x${sym.shndx.toString(16)} (an uninitialised global variable? use -fno-common)`);
    const target = elf.sections[sym.shndx];
    if (!target) fail(`symbol's section ${sym.shndx} does not exist`);

    if (isCall) {
      if (ins.src !== BPF_PSEUDO_CALL) fail(`call with src ${ins.src} relocated against a function (expected BPF_PSEUDO_CALL)`);
      // Against a function symbol clang writes imm = -1; against a section
      // symbol (static functions) imm = (offset / 8) - 1: both are
      // "symbol value + (imm + 1) slots".
      const callee = funcAt(ctx, sym.shndx, sym.value + (addend + 1) * 8);
      if (!callee) fail(`call target at byte ${sym.value + (addend + 1) * 8} of '${target!.name}' is not the start of a function`);
      fn.calls.push({ index: i, target: callee! });
      continue;
    }

    // lddw
    const funcs = ctx.funcs.get(sym.shndx);
    if (funcs) {
      // A function's address (bpf_loop / bpf_for_each_map_elem callbacks):
      // global symbols carry the offset in st_value, section symbols in imm.
      const callee = funcAt(ctx, sym.shndx, sym.value + addend);
      if (!callee) fail(`function address at byte ${sym.value + addend} of '${target!.name}' is not the start of a function`);
      ins.src = BPF_PSEUDO_FUNC;
      insns[i + 1]!.imm = 0;
      fn.calls.push({ index: i, target: callee! });
      i++;
      continue;
    }
    const data = ctx.dataMaps.get(sym.shndx);
    if (data) {
      const off = sym.value + addend;
      if (off < 0 || off > data.size) fail(`offset ${off} is outside '${target!.name}' (${data.size} bytes)`);
      ins.src = BPF_PSEUDO_MAP_VALUE;
      ins.imm = 0;
      insns[i + 1]!.imm = off;
      fn.references.push({ index: i, kind: 'map_value', map: data.spec.name });
      i++;
      continue;
    }
    if (!ctx.mapsAt) indexContext(ctx);
    const map = ctx.mapsAt!.get(`${sym.shndx}:${sym.value}`);
    if (map) {
      // libbpf ignores any addend on a map reference: the whole map is meant.
      ins.src = BPF_PSEUDO_MAP_FD;
      ins.imm = 0;
      insns[i + 1]!.imm = 0;
      fn.references.push({ index: i, kind: 'map', map: map.spec.name });
      i++;
      continue;
    }
    if (target!.name === '.maps' || target!.name === 'maps')
      fail(`no map is defined at offset ${sym.value} of '${target!.name}'`);
    if (target!.name === '.kconfig' || target!.name === '.ksyms') fail(`'${target!.name}' symbols are not supported`, 'ENOTSUPP');
    fail(`'${target!.name}' is not a map, global data or code section`);
  }
}

export interface LinkedProgram {
  insns: Insn[];
  references: InsnReference[];
  /** where each function landed (the program itself at 0) */
  layout: LinkLayout;
}

/** Where each function of a linked program lands, the program itself at 0, in libbpf's order. */
export type LinkLayout = Array<{ func: Func; offset: number }>;

/**
 * Where the program and every subprogram it reaches land when each is appended once, without
 * copying any instruction (so an object's programs can be sized, and refused, at open, and
 * copied only when asked for); `total` is the linked program's length.
 */
export function linkLayout(main: Func, limit = MAX_LINKED_INSNS): { layout: LinkLayout; total: number } {
  const placed = new Set<Func>();
  const layout: LinkLayout = [];
  let total = 0;
  const place = (fn: Func): void => {
    if (total + fn.insns.length > limit)
      throw new TsbpfError('E2BIG', `program '${main.name}': more than ${limit} instructions with its subprograms appended`);
    placed.add(fn);
    layout.push({ func: fn, offset: total });
    total += fn.insns.length;
  };
  // Depth first, as libbpf: a callee's own callees are appended before the
  // caller's later calls are looked at. An explicit stack, since a forged
  // object can chain thousands of functions.
  place(main);
  const stack: Array<{ fn: Func; next: number }> = [{ fn: main, next: 0 }];
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.fn.calls.length) {
      stack.pop();
      continue;
    }
    const call = frame.fn.calls[frame.next++]!;
    if (!placed.has(call.target)) {
      place(call.target);
      stack.push({ fn: call.target, next: 0 });
    }
  }
  return { layout, total };
}

/**
 * The program with every subprogram it reaches appended once, calls and
 * function addresses pointing at the appended copies (imm = target - (pc + 1)).
 */
export function linkProgram(main: Func, limit = MAX_LINKED_INSNS, layout: LinkLayout = linkLayout(main, limit).layout): LinkedProgram {
  const insns: Insn[] = [];
  const references: InsnReference[] = [];
  const at = new Map<Func, number>();
  for (const { func, offset } of layout) at.set(func, offset);
  for (const { func, offset } of layout) {
    // a spread, not a literal: one clone operation, measured faster on a cold start
    for (const ins of func.insns) insns.push({ ...ins });
    for (const r of func.references) references.push({ ...r, index: r.index + offset });
  }
  for (const { func, offset } of layout) for (const call of func.calls) insns[offset + call.index]!.imm = at.get(call.target)! - (offset + call.index) - 1;
  references.sort((a, b) => a.index - b.index);
  return { insns, references, layout };
}

/**
 * The most instructions one program may have with its subprograms appended:
 * the kernel's limit for a privileged program (BPF_COMPLEXITY_LIMIT_INSNS).
 */
export const MAX_LINKED_INSNS = 1_000_000;

/**
 * A program's instructions with its CO-RE relocations applied (a patched
 * copy). libbpf's bpf_object__relocate_core runs before map resolution, so
 * the kernel's verifier only ever sees relocated offsets; the runtime's
 * loader, the kernel backend and `tsbpf prog load` all go through here. The target is tsbpf's own
 * types (contextBtf) unless one is given. As libbpf, an instruction whose
 * relocation the target cannot satisfy is poisoned (refused by the verifier
 * only if reachable); what libbpf refuses outright (ambiguous candidates, an
 * instruction that does not hold the local value) is a CoreRelocationError.
 * `log` receives libbpf's debug lines; `cache` shares the candidate lists
 * between the programs of one object, as libbpf's cand_cache does.
 */
export function coreRelocated(prog: ProgramSpec, local: Btf | undefined, target?: Btf, opts: CoreOptions = {}): Insn[] {
  if (!prog.coreRelos?.length) return cloneInsns(prog.insns);
  // the records name types of the object's BTF: without it they cannot be read
  if (!local) throw new TsbpfError('EINVAL', `${prog.name}: CO-RE relocations without the object's BTF`);
  return applyCoreRelocations(prog.insns, prog.coreRelos as CoreRelo[], local, target ?? contextBtf(), { prog: prog.name, ...opts });
}

/** How a CO-RE pass reports and shares its work (see coreRelocated). */
export interface CoreOptions {
  log?: CoreLog;
  cache?: CoreCandCache;
  /** kernel modules' BTF, searched when vmlinux has no candidate (libbpf load_module_btfs) */
  modules?: CoreModules;
}
