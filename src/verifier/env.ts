/**
 * The verifier's environment (the kernel's struct bpf_verifier_env): the
 * program, its maps and program-type rules, the state of the path being
 * explored (`cur`, `idx`), the explorer's stack and checkpoints, statistics,
 * the log, and the register reads and writes every instruction makes
 * (check_reg_arg). The stages are functions of it, as the kernel's take
 * `env`: check.ts runs them in order, do-check.ts explores the paths, and
 * one module per instruction family, memory region and kind of call says
 * what must hold and how a step changes the state (state.ts, types.ts and
 * scalar.ts hold what is known).
 */
import type { MapValueFields } from './spin-lock.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import type { MapTypeName, ProgTypeName, ProgramSpec } from '../object/spec.js';
import type { Btf } from '../object/btf/btf.js';
import type { HelperProto } from '../uapi/helper-proto.js';
import type { InsnAux } from './insn-aux.js';
import { Reg, type RegType } from './types.js';
import { Reject } from './reject.js';
import { VerifierState } from './state.js';
import type { GlobalProto } from './global-func.js';
import { frameStr, alignTo, regStr, type MapNames } from './log.js';
import { type ProgTypeRules, progTypeRules } from './progtypes/index.js';
import type { Cfg } from './cfg.js';
import type { PruneContext } from './prune.js';
import { PrecisionMarks } from './precision-marks.js';
import { modelledHelper, withVariant } from './helper-protos.js';
import { tracingRulesFor, structOpsRulesFor } from './check.js';
import type { SccVisits } from './scc.js';
import type { Checkpoint, WorkItem } from './do-check.js';

export interface VerifierMapInfo {
  name?: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** the map was frozen (BPF_MAP_FREEZE): with BPF_F_RDONLY_PROG its contents are constants */
  frozen?: boolean;
  /** the value bytes of a global-data map (.rodata), for constant reads */
  contents?: Uint8Array;
  /** for array_of_maps / hash_of_maps: the inner map template (a lookup yields a map pointer) */
  inner?: VerifierMapInfo;
  /** the map has BTF for its value (a lock needs it) */
  btf?: boolean;
  /** where the value's special fields are (its bpf_spin_lock, bpf_timer: spin-lock.ts mapValueFields) */
  fields?: MapValueFields;
}

export interface VerifierInput {
  insns: readonly Insn[];
  progType: ProgTypeName;
  /** the maps lddw instructions refer to */
  maps?: readonly VerifierMapInfo[];
  /** index into `maps` of the lddw at slot i; default: the lddw's imm */
  mapOfInsn?: (insnIndex: number) => number | undefined;
  /** helper lookup (the runtime's registry); default: the built-in prototype table */
  helpers?: (id: number) => { name: string; proto: HelperProto } | undefined;
  /** root (CAP_BPF + CAP_PERFMON) rules; default true */
  privileged?: boolean;
  logLevel?: 0 | 1 | 2;
  lineInfo?: ProgramSpec['lineInfo'];
  funcInfo?: ProgramSpec['funcInfo'];
  btf?: unknown;
  /** GPL-only helpers need a GPL-compatible license; default "GPL" */
  license?: string;
  /** the program is sleepable (BPF_F_SLEEPABLE; syscall programs must be). Default: from progFlags, else false, as the kernel */
  sleepable?: boolean;
  /** the kernel's prog_flags (BPF_F_SLEEPABLE = 16 is the one the verifier reads) */
  progFlags?: number;
  /** processed-instruction budget; default (and maximum) the kernel's 1,000,000 */
  complexityLimit?: number;
  /**
   * The expected attach type as libbpf names it (`trace_fentry`, `trace_fexit`,
   * `modify_return`, `trace_raw_tp`): for tracing programs, with `attachTo`.
   */
  attachType?: string;
  /** tracing programs: the kernel function or raw tracepoint attached to (the kernel's attach_btf_id, by name) */
  attachTo?: string;
  /** struct_ops programs: the kernel ops struct (attach_btf_id) and the member (expected_attach_type) they implement */
  structOps?: { struct: string; member: string };
  /** the kfunc each BPF_PSEUDO_KFUNC_CALL at slot i calls, by name (from the object's `__ksym` relocations) */
  kfuncOfInsn?: (insnIndex: number) => string | undefined;
  /** the kernel variable each BPF_PSEUDO_BTF_ID lddw at slot i loads, by name (the object's `__ksym` variables; ksym.ts) */
  ksymOfInsn?: (insnIndex: number) => string | undefined;
  /**
   * Whether the kernel's kallsyms has a symbol (kallsyms_lookup_name, which gives a ksym's lddw its
   * address): a kernel without CONFIG_KALLSYMS_ALL has no data symbols. Default: every symbol of the
   * kernel BTF has an address.
   */
  kernelSymbols?: (name: string) => boolean;
  /** kernel BTF to find tracing targets in (e.g. /sys/kernel/btf/vmlinux); default: the subset tsbpf ships (kernel-btf.ts) */
  kernelBtf?: Btf;
}

export interface VerifierStats {
  processedInsns: number;
  peakStates: number;
  totalStates: number;
  maxStatesPerInsn: number;
  /** stack depth of each function, main first */
  stackDepth: number[];
  maxStackDepth: number;
  /** the end of the farthest context access (the kernel's prog->aux->max_ctx_offset; a raw_tp test run needs that much ctx_in) */
  maxCtxOffset: number;
  /** the end of the farthest access through a read-only / writable PTR_TO_BUF (prog->aux->max_rdonly_access, max_rdwr_access: an iterator's attach checks them against the map's key and value sizes) */
  maxRdonlyAccess?: number;
  maxRdwrAccess?: number;
  /** the end of the farthest access through PTR_TO_TP_BUFFER (prog->aux->max_tp_access: a writable raw tracepoint's attach checks it against the tracepoint's writable_size) */
  maxTpAccess?: number;
  timeUs: number;
}

export const BPF_F_RDONLY_PROG = 0x80;
export const BPF_F_WRONLY_PROG = 0x100;
export const BPF_MAX_VAR_OFF = 1 << 29;
export const MAX_PACKET_OFF = 0xffff;
export const COMPLEXITY_LIMIT = op.BPF_COMPLEXITY_LIMIT_INSNS;

export const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);



export class Verifier implements MapNames {
  readonly insns: readonly Insn[];
  readonly rules: ProgTypeRules;
  readonly maps: readonly VerifierMapInfo[];
  readonly innerOf: number[];
  readonly privileged: boolean;
  readonly logLevel: number;
  readonly aux: InsnAux[];
  cfg!: Cfg;
  /** the calls of an iterator's _next (check.ts markIterNext): forced checkpoints where iterator loops converge */
  readonly iterNext = new Set<number>();
  readonly out: string[] = [];
  idGen = 0;
  /** precision marks: the static analysis and what the walk records for it (precision-marks.ts) */
  readonly marks: PrecisionMarks;
  processed = 0;
  jmpsProcessed = 0;
  prevInsnProcessed = 0;
  /** the processed count at which the current instruction was last recorded in the path's instruction history (noteInsnHist) */
  private histMark = -1;
  prevJmpsProcessed = 0;
  totalStates = 0;
  curStates = 0;
  peakStates = 0;
  /** check_ctx_access: the end of the farthest allowed context access */
  maxCtxOffset = 0;
  /** check_buffer_access: the ends of the farthest read-only and writable buffer accesses (buf.ts) */
  maxRdonlyAccess = 0;
  maxRdwrAccess = 0;
  /** check_tp_buffer_access: the end of the farthest access through a writable tracepoint's buffer (tp-buffer.ts) */
  maxTpAccess = 0;
  /** the explored states by instruction (the kernel's explored_states): the prune points' lists */
  readonly explored = new ExploredStates();
  readonly work: WorkItem[] = [];
  readonly stackDepth: number[] = [];
  /** async callbacks (bpf_timer_set_callback's; the kernel's is_async_cb), by first instruction: the maps they were entered with (timer.ts); stack-depth roots */
  readonly asyncCallbacks = new Map<number, Set<number>>();
  /** the exception callback's first instruction, when the main program names one (exception-entry.ts) */
  exceptionCb: number | undefined = undefined;
  cur!: VerifierState;
  cp: Checkpoint | null = null;
  idx = 0;
  /** registers and stack slots the current instruction touched (for the level-2 log) */
  scratchRegs = new Set<number>();
  scratchSlots = new Set<number>();
  readonly pruneCtx: PruneContext;
  readonly limit: number;

  constructor(readonly input: VerifierInput) {
    this.insns = input.insns;
    this.marks = new PrecisionMarks(this);
    const rules = input.progType === 'tracing' || input.progType === 'lsm' ? tracingRulesFor(input)
      : input.progType === 'struct_ops' ? structOpsRulesFor(input) : progTypeRules(input.progType, input.attachType);
    if (!rules) throw new Reject({ errno: 'EINVAL', message: `program type ${input.progType} is not supported`, insn: 0 });
    this.rules = rules;
    // Inner map templates get indices of their own after the maps the program names.
    const maps = [...(input.maps ?? [])];
    this.innerOf = maps.map(() => -1);
    for (let k = 0; k < maps.length; k++) {
      const inner = maps[k]!.inner;
      if (inner) {
        this.innerOf[k] = maps.length;
        maps.push(inner);
        this.innerOf.push(-1);
      }
    }
    this.maps = maps;
    this.privileged = input.privileged ?? true;
    this.logLevel = input.logLevel ?? 0;
    this.aux = new Array(this.insns.length);
    this.limit = Math.min(COMPLEXITY_LIMIT, input.complexityLimit ?? COMPLEXITY_LIMIT);
    this.pruneCtx = {
      allowUninitStack: this.privileged,
      // A caller frame resumes after its call with r6-r9; below a callback it resumes at the
      // helper call itself (callback.ts), with the arguments it passes again.
      liveMask: (st, k) => {
        const top = st.frames.length - 1;
        if (k === top) return this.cfg.liveIn[this.idx]!;
        const above = st.frames[k + 1]!;
        if (above.callbackOf !== 0) return this.cfg.liveIn[above.callsite]!;
        return this.cfg.liveIn[above.callsite + 1]! & 0b1111000000;
      },
      // Static stack-slot liveness (stack-liveness.ts), every frame (callerSlotsAt).
      liveSlot: (st: VerifierState, k: number, spi: number): boolean => this.marks.liveSlot(st, k, spi),
      // Static precision (precision.ts), for privileged loads: the same frame rule as liveMask.
      ...(this.privileged ? {
        preciseMask: (st: VerifierState, k: number): number => this.marks.preciseMask(st, k),
        preciseSlot: (st: VerifierState, k: number, spi: number): boolean => this.marks.preciseSlot(st, k, spi),
      } : {}),
    };
  }

  /**
   * Where the static stack analyses are read for frame k's slots in state `st`: the current
   * instruction for the top frame; for a caller, the instruction after its call (where it
   * resumes), unless a frame above it may still reach its stack through a pointer it was given
   * (`reachesCaller`, per instruction of that frame's function: from its current instruction,
   * or from the one after its own call) or is a callback, which its helper calls again after it
   * returns: then -1, every slot of frame k counts.
   */
  callerSlotsAt(st: VerifierState, k: number, reachesCaller: Uint8Array): number {
    const top = st.frames.length - 1;
    if (k === top) return this.idx;
    for (let j = k + 1; j <= top; j++) {
      if (st.frames[j]!.callbackOf !== 0) return -1;
      if (reachesCaller[j === top ? this.idx : st.frames[j + 1]!.callsite + 1]) return -1;
    }
    return st.frames[k + 1]!.callsite + 1;
  }

  // --- MapNames for the log ---
  name(m: number): string | undefined {
    return this.maps[m]?.name;
  }
  keySize(m: number): number {
    return this.maps[m]?.keySize ?? 0;
  }
  valueSize(m: number): number {
    return this.maps[m]?.valueSize ?? 0;
  }

  log(line: string): void {
    if (this.logLevel > 0) this.out.push(line);
  }

  /** BPF_F_SLEEPABLE: the input's `sleepable`, else the flag in its prog_flags (the kernel's prog->sleepable). */
  get sleepable(): boolean {
    return this.input.sleepable ?? ((this.input.progFlags ?? 0) & 16) !== 0;
  }

  get logText(): string {
    return this.out.join('\n') + (this.out.length ? '\n' : '');
  }

  /** Append a final line even at log level 0 (the rejection reason). */
  logAlways(line: string): void {
    this.out.push(line);
  }

  /**
   * Record the current instruction in the path's instruction history, once however many reasons
   * it has (push_insn_history's cur_hist_ent): a jump point, a register spilled to or filled from
   * the stack (INSN_F_STACK_ACCESS).
   */
  noteInsnHist(): void {
    if (this.histMark === this.processed) return;
    this.histMark = this.processed;
    this.cur.insnHist++;
  }

  helper(id: number): { name: string; proto: HelperProto } | undefined {
    // asked by the CFG's liveness, the static precision and every call the walk checks: resolved
    // once per id (a registry lookup, and a new proto for a helper with per-type variants)
    if (this.helpers.has(id)) return this.helpers.get(id);
    const given = this.input.helpers?.(id);
    // (a struct_ops program's attach type is its ops struct here, as for helperAvailable: call-helper.ts)
    const attach = this.input.attachType ?? this.input.structOps?.struct;
    const h = given ? withVariant(id, given, this.input.progType, attach) : modelledHelper(id, this.input.progType, attach);
    this.helpers.set(id, h);
    return h;
  }
  private readonly helpers = new Map<number, { name: string; proto: HelperProto } | undefined>();

  stats(timeUs: number): VerifierStats {
    // The kernel allocates stack in 8-byte slots and reports that.
    const depths = this.cfg ? this.cfg.subprogStarts.map((_, k) => Math.ceil((this.stackDepth[k] ?? 0) / 8) * 8) : [0];
    const maxPer = this.explored.maxLength();
    return {
      processedInsns: this.processed,
      peakStates: this.peakStates,
      totalStates: this.totalStates,
      maxStatesPerInsn: maxPer,
      stackDepth: depths,
      maxStackDepth: Math.max(0, ...depths),
      maxCtxOffset: this.maxCtxOffset,
      ...(this.maxRdonlyAccess ? { maxRdonlyAccess: this.maxRdonlyAccess } : {}),
      ...(this.maxRdwrAccess ? { maxRdwrAccess: this.maxRdwrAccess } : {}),
      ...(this.maxTpAccess ? { maxTpAccess: this.maxTpAccess } : {}),
      timeUs,
    };
  }

  get currentState(): VerifierState | undefined {
    return this.cur;
  }
  get currentInsn(): number {
    return this.idx;
  }

  
  /** Functions with global linkage in the program's BTF func_info (static ones are followed into at each call). */
  readonly globals = new Map<number, { start: number; typeId: number; proto?: GlobalProto; called: boolean; verified: boolean; changesPkt: boolean }>();

  
  
  
  
  
  
  /**
   * How a callback's return to its helper call widens (callback.ts): false, every scalar that
   * changed since the previous iteration (Linux widens the imprecise ones, and its precision is
   * learned along the path; tsbpf's static precision counts a callback's context stored back
   * through its pointer as precise); true, only statically imprecise ones, with small bpf_loop
   * bounds unrolled exactly. verify() runs again with true when a run that widened a precise
   * scalar rejects.
   */
  callbackExact = false;
  /** a callback's return widened a scalar static precision counts as precise (callbackExact false) */
  callbackWidenedPrecise = false;
  /** the loops' visits (scc.ts; do-check.ts makes it at the first prune point): null without loops */
  sccVisits: SccVisits | null | undefined = undefined;

  logInsnPending: string | null = null;
  lastLine: unknown = undefined;

  /** `; source text @ file.c:12` when a line_info record starts at this instruction (verbose_linfo). */
  logSourceLine(i: number): void {
    const li = this.input.lineInfo;
    if (!li) return;
    const rec = li.find((l) => l.insnOff === i);
    if (!rec) return;
    // Like verbose_linfo: print a line once until another line is printed.
    const key = `${rec.fileName}:${rec.lineNum}:${rec.line}`;
    if (key === this.lastLine) return;
    this.lastLine = key;
    const base = rec.fileName.split('/').pop();
    this.log(`; ${rec.line.trim()} @ ${base}:${rec.lineNum}`);
  }

  flushInsnLog(): void {
    if (this.logInsnPending === null) return;
    let line = this.logInsnPending;
    if (this.logLevel > 1 && (this.scratchRegs.size || this.scratchSlots.size) && this.cur.frames.length) {
      const s = frameStr(this.cur.cur, this, { regs: this.scratchRegs, slots: this.scratchSlots }, this.cur.refs.map((r) => r.id));
      if (s) line += ' '.repeat(alignTo(line.length)) + '; ' + s;
    }
    this.log(line);
    this.logInsnPending = null;
  }

  helperLogName(id: number): string | undefined {
    const h = this.helper(id);
    return h ? `bpf_${h.name}` : undefined;
  }

  
  
  
  // ------------------------------------------------------------------
  // Registers

  regs(): Reg[] {
    return this.cur.regs;
  }

  /** check_reg_arg(SRC_OP) */
  readReg(r: number): Reg {
    const reg = this.regs()[r]!;
    if (this.logLevel > 1) this.scratchRegs.add(r);
    if (reg.type === 'not_init') {
      throw new Reject({
        errno: 'EACCES',
        message: `R${r} !read_ok`,
        insn: this.idx,
        regs: [r],
        hint: r === 0 ? 'assign r0 before exit or reading it (e.g. `r0 = 0`)' : `set r${r} before this instruction; helper calls clobber r1-r5`,
        rule: `R${r} is read before it was given a value on this path`,
      });
    }
    return reg;
  }

  /** check_reg_arg(DST_OP) */
  writeReg(r: number, v: Reg): void {
    if (r === op.REG_FP) throw new Reject({
      errno: 'EACCES',
      message: 'frame pointer is read only',
      insn: this.idx,
      regs: [10],
      hint: 'copy r10 into another register and change that one',
      rule: 'r10, the frame pointer, cannot be written',
    });
    this.regs()[r] = v;
    if (this.logLevel > 1) this.scratchRegs.add(r);
  }

  /**
   * assign_scalar_id_before_mov: before rX = rY (or a spill of rY), a link of rY to another
   * register plus a constant (BPF_ADD_CONST) is dropped, since a copy cannot carry a second
   * offset; then rY gets an id, if it has none and is not constant, that the copy shares.
   * rY is a register number or register object of the top frame; returns rY as it now is (a
   * private copy when it changed: Frame.reg).
   */
  idBeforeMov(y: number | Reg): Reg {
    const f = this.cur.cur;
    const regno = typeof y === 'number' ? y : f.regs.indexOf(y);
    let r = typeof y === 'number' ? f.regs[y]! : y;
    if (r.addConst || (!r.id && !r.s.isConst())) {
      if (regno >= 0) r = f.reg(regno);
      else if (r.shared) throw new Error('idBeforeMov: a shared register outside the current frame');
      if (r.addConst) {
        r.id = 0;
        r.addConst = false;
        r.linkOff = 0;
      }
      if (!r.id && !r.s.isConst()) r.id = this.newId();
    }
    return r;
  }

  newId(): number {
    return ++this.idGen;
  }

  regDesc(r: number): string {
    const reg = this.regs()[r]!;
    return `R${r}=${reg.type === 'not_init' ? 'not initialised' : regStr(reg, this.cur.cur.frameno, this)}`;
  }

  regDescriptions(rs: number[]): string[] {
    return rs.filter((r, k) => rs.indexOf(r) === k && r >= 0 && r <= 10).map((r) => this.regDesc(r));
  }

  
  
  
  
  /** Per load/store instruction: what its pointer was (the context, a kernel object, other memory) on the paths seen so far (insn_aux_data.ptr_type). */
  readonly ptrTypeAt = new Map<number, string>();

  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
}

/**
 * The stored states by instruction, with the get and set the walk and its helpers used on a Map, kept in
 * an array indexed by instruction: is_state_visited looks its list up at every prune point the
 * walk reaches, and a Map's hashed lookup there was a third of that function's own time.
 */
class ExploredStates {
  private readonly lists: Array<Checkpoint[] | undefined> = [];

  get(i: number): Checkpoint[] | undefined {
    return this.lists[i];
  }

  set(i: number, list: Checkpoint[]): void {
    // (the array is filled up to i first: a store far past its end would turn it into a dictionary)
    const l = this.lists;
    while (l.length < i) l.push(undefined);
    l[i] = list;
  }

  /** The longest list's length (the statistics' states per instruction). */
  maxLength(): number {
    const l = this.lists;
    let m = 0;
    for (let i = 0; i < l.length; i++) {
      const x = l[i];
      if (x && x.length > m) m = x.length;
    }
    return m;
  }
}
