/**
 * The main loop: abstract interpretation of every path of the program, as
 * the kernel's do_check explores it. A worklist holds the states of branches
 * not yet explored; each instruction is checked against the types and bounds
 * of its operands and transforms the state; conditional jumps refine both
 * sides; states at prune points are remembered so that a later path in a
 * state already proven safe stops there.
 */
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import type { MapTypeName, ProgTypeName, ProgramSpec } from '../object/spec.js';
import type { HelperProto, ArgType } from '../helpers/proto.js';
import type { InsnAux } from '../vm/engine.js';
import { InstructionError, type Errno } from '../errors.js';
import { validateProgram } from '../isa/validate.js';
import type { Btf } from '../object/btf/btf.js';
import { Reg, regTypeStr } from './types.js';
import { tnumConst, tnumStr, tnumIsConst } from './tnum.js';
import { Scalar, JSET_NOT } from './scalar.js';
import { Reject } from './reject.js';
import { VerifierState, Frame, StackSlot, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO } from './state.js';
import { mapFuncIncompatibility, helperAvailable, PKT_ACCESS_HELPERS, PRIVILEGED_HELPERS } from './func-compat.js';
import { kernelBtf, tracingTarget } from './kernel-btf.js';
import { buildCfg, CfgError, type Cfg } from './cfg.js';
import { statesEqual, statesMaybeLooping, type PruneContext } from './prune.js';
import { computePrecise, helperArgSinks, slotMatters, type Precision } from './precision.js';
import { progTypeRules, type ProgTypeRules } from './progtypes/index.js';
import { tracingRules, type TracingAttach, type TracingTarget } from './progtypes/tracing.js';
import { KFUNCS, LINUX_ONLY_KFUNCS } from './kfuncs.js';
import { prepareGlobalFunc, isGlobalFunc, funcName, returnsScalar, type GlobalProto } from './global-func.js';
import { HELPER_PROTOS, RET_BOUNDED_BY_SIZE, UNMODELLED_HELPERS } from './helper-protos.js';
import { strictAlignError } from './align.js';
import { checkAbnormalReturn, checkAbnormalReturnType, checkMaxStackDepth } from './stack-depth.js';
import { exceptionCallbackName } from './exception-cb.js';
import { frameStr, stateStr, insnLine, alignTo, regStr, type MapNames } from './log.js';
import { sockMapUnsupported, sockUnsupported, mapTypeId } from './btf-access.js';
import { checkRegion } from './map-value.js';
import { checkPacket } from './packet.js';
import { frameOf, noteDepth } from './stack.js';
import { checkLdx, checkStore, checkAtomic } from './ldst.js';
import { checkLdImm64 } from './ld-imm64.js';
import { checkLdAbs } from './ld-abs.js';
import { checkAlu } from './alu.js';
import { checkMayGoto, checkCondJmp } from './branch.js';

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
  /** the kfunc each BPF_PSEUDO_KFUNC_CALL at slot i calls, by name (from the object's `__ksym` relocations) */
  kfuncOfInsn?: (insnIndex: number) => string | undefined;
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
  timeUs: number;
}

export const BPF_F_RDONLY_PROG = 0x80;
export const BPF_F_WRONLY_PROG = 0x100;
export const BPF_MAX_VAR_OFF = 1 << 29;
export const MAX_PACKET_OFF = 0xffff;
export const COMPLEXITY_LIMIT = op.BPF_COMPLEXITY_LIMIT_INSNS;
export const HELPER_LOOP = 181;
export const HELPER_FOR_EACH = 164;
/**
 * Whether a function containing this helper call changes packet data for its callers (the kernel's
 * subprog changes_pkt_data): the helpers that may move the packet, and bpf_tail_call (id 12), since a
 * tail call made in a function returns to that function's caller after the tail-called program ran,
 * which may have called any of them (selftest verifier_sock.c invalidate_pkt_pointers_by_tail_call).
 */
export function callChangesPktData(id: number, proto: HelperProto | undefined): boolean {
  return id === 12 || proto?.changesPktData === true;
}
export const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

export interface Checkpoint {
  state: VerifierState;
  branches: number;
  parent: Checkpoint | null;
  hit: number;
  miss: number;
}

export interface WorkItem {
  st: VerifierState;
  insn: number;
  from: number;
  cp: Checkpoint | null;
}


export class Verifier implements MapNames {
  readonly insns: readonly Insn[];
  readonly rules: ProgTypeRules;
  readonly maps: readonly VerifierMapInfo[];
  readonly innerOf: number[];
  readonly privileged: boolean;
  readonly logLevel: number;
  readonly aux: InsnAux[];
  cfg!: Cfg;
  readonly out: string[] = [];
  idGen = 0;
  preciseIn: Precision | undefined;

  /** The static precision analysis, computed the first time pruning needs it. */
  precision(): Precision {
    return (this.preciseIn ??= computePrecise(this.insns, this.cfg.subprogStarts, (id) => helperArgSinks(this.helper(id)?.proto), this.rules.retRange !== undefined));
  }
  processed = 0;
  jmpsProcessed = 0;
  prevInsnProcessed = 0;
  prevJmpsProcessed = 0;
  totalStates = 0;
  curStates = 0;
  peakStates = 0;
  readonly explored = new Map<number, Checkpoint[]>();
  readonly work: WorkItem[] = [];
  readonly stackDepth: number[] = [];
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
    const rules = input.progType === 'tracing' ? tracingRulesFor(input) : progTypeRules(input.progType, input.attachType);
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
      liveMask: (st, k) => {
        const top = st.frames.length - 1;
        if (k === top) return this.cfg.liveIn[this.idx]!;
        const callsite = st.frames[k + 1]!.callsite;
        return this.cfg.liveIn[callsite + 1]! & 0b1111000000;
      },
      // Static precision (precision.ts), for privileged loads: the same frame rule as liveMask.
      ...(this.privileged ? {
        preciseMask: (st: VerifierState, k: number): number => {
          const p = this.precision();
          const top = st.frames.length - 1;
          if (k === top) return p.regs[this.idx]!;
          return p.regs[st.frames[k + 1]!.callsite + 1]! & 0b1111000000;
        },
        preciseSlot: (st: VerifierState, k: number, spi: number): boolean =>
          k !== st.frames.length - 1 || slotMatters(this.precision(), this.idx, spi),
      } : {}),
    };
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

  get logText(): string {
    return this.out.join('\n') + (this.out.length ? '\n' : '');
  }

  /** Append a final line even at log level 0 (the rejection reason). */
  logAlways(line: string): void {
    this.out.push(line);
  }

  helper(id: number): { name: string; proto: HelperProto } | undefined {
    return this.input.helpers?.(id) ?? HELPER_PROTOS.get(id);
  }

  stats(timeUs: number): VerifierStats {
    // The kernel allocates stack in 8-byte slots and reports that.
    const depths = this.cfg ? this.cfg.subprogStarts.map((_, k) => Math.ceil((this.stackDepth[k] ?? 0) / 8) * 8) : [0];
    let maxPer = 0;
    for (const l of this.explored.values()) maxPer = Math.max(maxPer, l.length);
    return {
      processedInsns: this.processed,
      peakStates: this.peakStates,
      totalStates: this.totalStates,
      maxStatesPerInsn: maxPer,
      stackDepth: depths,
      maxStackDepth: Math.max(0, ...depths),
      timeUs,
    };
  }

  get currentState(): VerifierState | undefined {
    return this.cur;
  }
  get currentInsn(): number {
    return this.idx;
  }

  // ------------------------------------------------------------------
  run(): void {
    const n = this.insns.length;
    if (n === 0) throw new Reject({ errno: 'EINVAL', message: 'program is empty', insn: 0 });
    if (n > COMPLEXITY_LIMIT || (!this.privileged && n > op.BPF_MAXINSNS))
      throw new Reject({
        errno: 'E2BIG',
        message: `program of ${n} insns is too large (limit ${this.privileged ? COMPLEXITY_LIMIT : op.BPF_MAXINSNS})`,
        insn: 0,
      });
    // The kernel (check_attach_btf_id) refuses a syscall program loaded without
    // BPF_F_SLEEPABLE (1 << 4); libbpf sets the flag for SEC("syscall"), and the
    // object reader marks such programs sleepable (ProgramSpec.sleepable).
    const sleepable = this.input.sleepable ?? ((this.input.progFlags ?? 0) & 16) !== 0;
    if (this.rules.name === 'syscall' && !sleepable)
      throw new Reject({
        errno: 'EINVAL',
        message: 'Syscall programs can only be sleepable',
        insn: 0,
        hint: 'use the SEC("syscall") section, which libbpf loads as sleepable',
      });
    if (!this.privileged && !this.rules.unprivileged)
      throw new Reject({ errno: 'EPERM', message: `program type ${this.rules.name} needs privileges (CAP_BPF) to load`, insn: 0 });
    try {
      // Malformed encodings first (reserved fields, registers past r10, broken lddw pairs, jumps into the middle of one).
      validateProgram(this.insns);
    } catch (e) {
      if (e instanceof InstructionError) throw new Reject({
        errno: 'EINVAL',
        message: e.reason,
        insn: e.index,
        rule: `malformed instruction: ${e.reason}`,
      });
      throw e;
    }
    try {
      this.cfg = buildCfg(this.insns, {
        allowLoops: this.privileged,
        helperArgs: (id) => this.helper(id)?.proto.args.length ?? 5,
      });
    } catch (e) {
      if (e instanceof CfgError) throw new Reject({ errno: 'EINVAL', message: e.message, insn: e.insn });
      throw e;
    }
    this.checkInsnsStatic();
    if (!this.input.funcInfo?.length) {
      const e = checkAbnormalReturn(this.insns, this.cfg.subprogStarts);
      if (e) throw new Reject({
        errno: 'EINVAL',
        message: e.message,
        insn: e.insn,
        hint: 'build with `clang -g` so that the object carries BTF func_info',
        rule: 'a function other than the main program uses LD_ABS/LD_IND or a tail call without BTF',
      });
    } else {
      const fi = this.input.funcInfo;
      const e = checkAbnormalReturnType(this.insns, this.cfg.subprogStarts, (k) => returnsScalar(this.input.btf as Btf | undefined, fi.find((x) => x.insnOff === this.cfg.subprogStarts[k])?.typeId));
      if (e) throw new Reject({
        errno: 'EINVAL',
        message: e.message,
        insn: e.insn,
        hint: 'declare the function to return int: LD_ABS/LD_IND and tail calls may return from it early with r0 = 0',
        rule: 'a function that may return early (LD_ABS/LD_IND, tail call) must return an integer',
      });
    }
    const exCb = exceptionCallbackName(this.input.btf, this.input.funcInfo?.find((x) => x.insnOff === 0)?.typeId);
    if (exCb !== undefined)
      throw new Reject({
        errno: 'ENOTSUPP',
        message: `exception callback ${exCb} (bpf_throw unwinding) is not supported by tsbpf`,
        insn: 0,
        hint: 'remove the __exception_cb() tag; tsbpf has no bpf_throw',
        rule: 'exception callbacks are not supported by tsbpf',
      });
    this.findGlobalFuncs();
    const st = new VerifierState();
    const f = new Frame(0, -1, 0);
    f.regs[1] = Reg.ptr('ctx');
    f.regs[10] = Reg.ptr('fp', { frameno: 0 });
    st.frames.push(f);
    this.curStates = 1;
    this.peakStates = 1;
    this.explore(st, 0);
    // do_check_subprogs: then each global function a verified path called, once, on its own
    for (let progress = true; progress; ) {
      progress = false;
      for (const [k, g] of this.globals) {
        if (!g.called || g.verified) continue;
        g.verified = progress = true;
        this.verifyGlobalFunc(k, g);
      }
    }
    this.checkMaxStackDepth();
  }

  /** Functions with global linkage in the program's BTF func_info (static ones are followed into at each call). */
  readonly globals = new Map<number, { start: number; typeId: number; proto?: GlobalProto; called: boolean; verified: boolean; changesPkt: boolean }>();

  findGlobalFuncs(): void {
    const fi = this.input.funcInfo;
    const btf = this.input.btf as Btf | undefined;
    if (!fi?.length || !btf || typeof (btf as { typeById?: unknown }).typeById !== 'function') return;
    const starts = this.cfg.subprogStarts;
    // which functions (transitively) call a helper that moves the packet (the kernel's changes_pkt_data)
    const own = starts.map(() => false);
    for (let i = 0; i < this.insns.length; i++) {
      const ins = this.insns[i]!;
      if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER && callChangesPktData(ins.imm, this.helper(ins.imm)?.proto)) own[this.cfg.subprogOf[i]!] = true;
    }
    const changes = (k: number, seen = new Set<number>()): boolean => {
      if (own[k]) return true;
      seen.add(k);
      for (const c of this.cfg.callees[k] ?? []) if (!seen.has(c) && changes(c, seen)) return true;
      return false;
    };
    for (let k = 1; k < starts.length; k++) {
      const typeId = fi.find((x) => x.insnOff === starts[k])?.typeId;
      if (typeId !== undefined && isGlobalFunc(btf, typeId)) this.globals.set(k, { start: starts[k]!, typeId, called: false, verified: false, changesPkt: changes(k) });
    }
  }

  /** The argument types of global function k (btf_prepare_func_args), or a Reject with the kernel's reason. */
  globalProto(k: number, at: number): GlobalProto {
    const g = this.globals.get(k)!;
    if (g.proto) return g.proto;
    const p = prepareGlobalFunc(this.input.btf as Btf, g.typeId, this.rules.name, k);
    if ('message' in p) {
      const name = funcName(this.input.btf as Btf, g.typeId, k);
      throw new Reject({
        errno: p.errno,
        message: at === g.start ? p.message : `${p.message}\nCaller passes invalid args into func#${k} ('${name}')`,
        insn: at,
        hint: p.errno === 'ENOTSUPP' ? undefined : 'global functions must return an integer and take integers, the context, or pointers to sized types',
        rule: `the BTF prototype of global function ${name}() is not one Linux can verify`,
      });
    }
    g.proto = p;
    return p;
  }

  /** do_check_common for a global function: its own state, arguments typed from its prototype. */
  verifyGlobalFunc(k: number, g: { start: number; typeId: number }): void {
    const p = this.globalProto(k, g.start);
    if (this.logLevel > 0) {
      this.log('');
      this.log(`Validating ${p.name}() func#${k}...`);
    }
    const st = new VerifierState();
    const f = new Frame(0, -1, g.start);
    p.args.forEach((a, j) => {
      f.regs[j + 1] = a.kind === 'ctx' ? Reg.ptr('ctx') : a.kind === 'scalar' ? Reg.unknown()
        : Reg.ptr('mem', { memSize: a.size, maybeNull: a.nullable, id: this.newId() });
    });
    f.regs[10] = Reg.ptr('fp', { frameno: 0 });
    st.frames.push(f);
    this.cp = null;
    this.curStates++;
    this.explore(st, g.start);
    if (this.logLevel > 0) this.log(`Func#${k} ('${p.name}') is safe for any args that match its prototype`);
  }

  /** Explore every path from `st` at instruction `start` (do_check). */
  explore(st: VerifierState, start: number): void {
    this.cur = st;
    this.idx = start;
    if (this.logLevel > 0) this.log(`${start}: ${frameStr(st.cur, this)}`);
    let from = -1;
    for (;;) {
      const done = this.runPath(from);
      void done;
      const next = this.work.pop();
      if (!next) break;
      this.cur = next.st;
      this.idx = next.insn;
      this.cp = next.cp;
      from = next.from;
      if (this.logLevel > 0) {
        this.log('');
        this.log(`from ${next.from} to ${next.insn}: ${stateStr(this.cur, this)}`);
        if (this.logLevel > 1) this.log(`${next.insn}: ${stateStr(this.cur, this)}`);
      }
    }
  }

  /** Static checks that need no state: registers in range, reserved fields, writes to r10. */
  checkInsnsStatic(): void {
    for (let i = 0; i < this.insns.length; i++) {
      const ins = this.insns[i]!;
      // add_subprog_and_kfunc / add_kfunc_call: every kfunc call, reachable or not, before the walk
      if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL) {
        if (!this.privileged)
          throw new Reject({
            errno: 'EPERM',
            message: 'loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN',
            insn: i,
            rule: 'kfunc calls need privileges',
          });
        if (!GPL_COMPATIBLE.has(this.input.license ?? 'GPL'))
          throw new Reject({
            errno: 'EINVAL',
            message: 'cannot call kernel function from non-GPL compatible program',
            insn: i,
            hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
            rule: 'kfuncs are only available to GPL-compatible programs',
          });
        if (!this.input.kfuncOfInsn?.(i))
          throw new Reject({
            errno: 'EINVAL',
            message: `kernel btf_id ${ins.imm >>> 0} is not a function`,
            insn: i,
            hint: 'name kfuncs with `extern ... __ksym` declarations so that the loader can resolve them',
            rule: 'the call names no kernel function tsbpf knows',
          });
      }
      if (ins.code === op.OP_LDDW) {
        if (ins.src === op.BPF_PSEUDO_BTF_ID) throw new Reject({ errno: 'EINVAL', message: 'ldimm64 of a BTF id (ksym) is not supported', insn: i });
        i++;
      }
    }
  }

  /** Explore from the current state until the path ends; returns when it exits or is pruned. */
  runPath(from: number): void {
    let startOfPath = from >= 0;
    this.arrivedFrom = from;
    for (;;) {
      const i = this.idx;
      if (++this.processed > this.limit)
        throw new Reject({
          errno: 'E2BIG',
          message: `BPF program is too large. Processed ${this.processed} insn`,
          insn: i,
          rule: 'the verifier explored more than 1,000,000 instructions across all paths; simplify loops or reduce branching',
        });
      if (this.cfg.prunePoint[i]) {
        if (this.isStateVisited(i)) {
          if (this.logLevel > 0) this.log(startOfPath ? `from ${from} to ${i}: safe` : `${i}: safe`);
          this.endPath();
          return;
        }
      }
      startOfPath = false;
      if (this.logLevel > 0) {
        if (this.logLevel > 1) {
          this.scratchRegs.clear();
          this.scratchSlots.clear();
        }
        this.logSourceLine(i);
        this.logInsnPending = insnLine(this.insns, i, (id) => this.helperLogName(id), () => this.input.kfuncOfInsn?.(i));
      }
      const next = this.step(i);
      if (this.logLevel > 0) {
        // The kernel prints no state after an exit.
        if (next < 0 || this.insns[i]!.code === op.OP_EXIT) { this.scratchRegs.clear(); this.scratchSlots.clear(); }
        this.flushInsnLog();
      }
      if (next < 0) {
        this.endPath();
        return;
      }
      this.arrivedFrom = i;
      this.idx = next;
    }
  }

  /** The instruction the current one was reached from (-1 at the start of the program). */
  arrivedFrom = -1;

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

  endPath(): void {
    this.curStates--;
    let c = this.cp;
    while (c) {
      c.branches--;
      if (c.branches > 0) break;
      c = c.parent;
    }
  }

  /** Remember the state at a prune point, or stop when a proven state contains it (is_state_visited). */
  isStateVisited(i: number): boolean {
    let list = this.explored.get(i);
    const cur = this.cur;
    let inLoop = false;
    // the kernel forces a checkpoint at every may_goto (mark_force_checkpoint)
    const isMayGoto = this.insns[i]?.code === op.OP_MAY_GOTO;
    if (list) {
      // Only a re-entry after the callback's exit (the helper calling it again, the kernel's
      // calls_callback checkpoint) converges this way; a jump back to the callback's first
      // instruction from inside it is an ordinary loop, checked for progress below.
      const from = this.arrivedFrom >= 0 ? this.insns[this.arrivedFrom] : undefined;
      const isCallbackEntry = cur.cur.callbackOf !== 0 && this.cfg.subprogStarts.includes(i) && from?.code === op.OP_EXIT;
      for (const c of list) {
        if (c.branches === 0) {
          if ((callbacksCovered(c.state, cur) && statesEqual(c.state, cur, this.pruneCtx))) {
            c.hit++;
            return true;
          }
        } else if (isCallbackEntry) {
          // Callback re-entry: the helper bounds the iterations, so containment in an
          // iteration still being explored is a fixpoint (the kernel's calls_callback case).
          if ((callbacksCovered(c.state, cur) && statesEqual(c.state, cur, this.pruneCtx))) {
            c.hit++;
            return true;
          }
        } else {
          inLoop = true;
          // A loop through a may_goto ends (the counter runs out): a state
          // contained in an earlier one at another may_goto depth has converged.
          if (isMayGoto && c.state.mayGotoDepth !== cur.mayGotoDepth && (callbacksCovered(c.state, cur) && statesEqual(c.state, cur, this.pruneCtx))) {
            c.hit++;
            return true;
          }
          if (statesMaybeLooping(c.state, cur) && c.state.mayGotoDepth === cur.mayGotoDepth && callbackUnroll(c.state) === callbackUnroll(cur) && (callbacksCovered(c.state, cur) && statesEqual(c.state, cur, this.pruneCtx, true))) {
            // The very same state again on this path: a loop that makes no progress.
            throw new Reject({
              errno: 'EINVAL',
              message: `infinite loop detected at insn ${i}\ncur state: ${stateStr(cur, this)}\nold state: ${stateStr(c.state, this)}`,
              insn: i,
              hint: 'make the loop condition depend on a counter that changes every iteration and is bounded',
              rule: 'the loop can repeat in the same state forever: the verifier cannot prove that it terminates',
            });
          }
        }
        c.miss++;
      }
      // States that keep failing to match cost time and never prune: drop them, as the kernel does
      // (losing a state only costs pruning, never soundness).
      if (list.length > 8) {
        list = list.filter((c) => c.miss <= c.hit * 3 + 3);
        this.explored.set(i, list);
      }
    }
    // a checkpoint at every callback entry from the helper's call or a re-entry after its exit (not
    // at every pass of a loop inside the callback that jumps back to its first instruction)
    const enteredBy = this.arrivedFrom >= 0 ? this.insns[this.arrivedFrom]!.code : -1;
    const force = isMayGoto || (cur.cur.callbackOf !== 0 && this.cfg.subprogStarts.includes(i) && (enteredBy === op.OP_CALL || enteredBy === op.OP_EXIT));
    // Inside a loop, iterations rarely match each other: remember states less often.
    const minJmps = inLoop ? 20 : 2, minInsns = inLoop ? 100 : 8;
    if (!force && !(this.jmpsProcessed - this.prevJmpsProcessed >= minJmps && this.processed - this.prevInsnProcessed >= minInsns)) return false;
    this.prevJmpsProcessed = this.jmpsProcessed;
    this.prevInsnProcessed = this.processed;
    const cp: Checkpoint = { state: cur.clone(), branches: 1, parent: this.cp, hit: 0, miss: 0 };
    this.cp = cp;
    this.totalStates++;
    const l = list ?? [];
    if (l.length >= 64) {
      const k = l.findIndex((x) => x.branches === 0);
      l.splice(k >= 0 ? k : 0, 1);
    }
    l.push(cp);
    if (!list) this.explored.set(i, l);
    return false;
  }

  /** Queue the other side of a branch (push_stack). */
  push(st: VerifierState, insn: number, from: number): void {
    if (this.cp) this.cp.branches++;
    this.work.push({ st, insn, from, cp: this.cp });
    this.curStates++;
    if (this.curStates > this.peakStates) this.peakStates = this.curStates;
    if (this.work.length > 8192) throw new Reject({
      errno: 'E2BIG',
      message: `The sequence of ${this.work.length} jumps is too complex.`,
      insn: from,
    });
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
   */
  idBeforeMov(r: Reg): void {
    if (r.addConst) {
      r.id = 0;
      r.addConst = false;
      r.linkOff = 0;
    }
    if (!r.id && !r.s.isConst()) r.id = this.newId();
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

  // ------------------------------------------------------------------
  // One instruction. Returns the next instruction index, or -1 when the path ends.

  step(i: number): number {
    const ins = this.insns[i]!;
    const cls = op.classOf(ins.code);
    switch (cls) {
      case op.BPF_ALU:
      case op.BPF_ALU64:
        checkAlu(this, ins, cls === op.BPF_ALU);
        return i + 1;
      case op.BPF_LDX:
        checkLdx(this, ins);
        return i + 1;
      case op.BPF_ST:
      case op.BPF_STX:
        if (op.modeOf(ins.code) === op.BPF_ATOMIC) checkAtomic(this, ins);
        else checkStore(this, ins, cls === op.BPF_STX);
        return i + 1;
      case op.BPF_LD:
        if (ins.code === op.OP_LDDW) {
          checkLdImm64(this, i, ins);
          return i + 2;
        }
        return checkLdAbs(this, ins);
      case op.BPF_JMP:
      case op.BPF_JMP32: {
        this.jmpsProcessed++;
        const o = op.opOf(ins.code);
        if (o === op.BPF_EXIT) return this.checkExit();
        if (o === op.BPF_CALL) return this.checkCall(i, ins);
        if (o === op.BPF_JA) return i + 1 + (cls === op.BPF_JMP32 ? ins.imm : ins.off);
        if (o === op.BPF_JCOND) return checkMayGoto(this, i, ins);
        return checkCondJmp(this, i, ins, cls === op.BPF_JMP32);
      }
    }
    throw new Reject({ errno: 'EINVAL', message: `unknown opcode ${ins.code.toString(16).padStart(2, '0')}`, insn: i });
  }

  
  
  
  /** Per load/store instruction: whether its pointer was the context, on the paths seen so far (insn_aux_data.ptr_type). */
  readonly ctxPtrAt = new Map<number, boolean>();

  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  // --- calls and exits ----------------------------------------------------

  checkCall(i: number, ins: Insn): number {
    if (op.sourceOf(ins.code) === op.BPF_X) throw new Reject({
      errno: 'EINVAL',
      message: 'callx (indirect calls) are not supported by the verifier',
      insn: i,
    });
    if (ins.src === op.BPF_PSEUDO_KFUNC_CALL) return this.checkKfuncCall(i, ins);
    if (ins.src === op.BPF_PSEUDO_CALL) {
      if (!this.privileged) throw new Reject({
        errno: 'EPERM',
        message: 'function calls to other bpf functions are allowed for CAP_BPF and CAP_SYS_ADMIN',
        insn: i,
        rule: 'bpf-to-bpf calls need privileges',
      });
      const k = this.cfg.subprogOf[i + ins.imm + 1]!;
      if (this.globals.has(k)) return this.checkGlobalCall(i, k);
      return this.enterFunc(i, i + ins.imm + 1, 0, null);
    }
    return this.checkHelperCall(i, ins.imm);
  }

  /**
   * check_func_call for a global function: the caller's registers are
   * checked against the prototype (btf_check_func_arg_match), the function
   * is queued for its own verification, and the caller continues with r0 an
   * unknown number and r1-r5 clobbered.
   */
  checkGlobalCall(i: number, k: number): number {
    const g = this.globals.get(k)!;
    const name = funcName(this.input.btf as Btf, g.typeId, k);
    const invalid = (detail: string, errno: Errno = 'EINVAL', regs: number[] = [], hint?: string): never => {
      throw new Reject({
        errno: errno === 'EACCES' ? 'EINVAL' : errno,
        message: `${detail}\nCaller passes invalid args into func#${k} ('${name}')`,
        insn: i,
        regs: regs,
        hint: hint,
        rule: `the arguments do not match the BTF prototype of global function ${name}()`,
      });
    };
    const p = this.globalProto(k, i);
    // Linux 6.12 refused global calls with preemption disabled; 6.18 allows them (tsbpf's
    // global functions cannot sleep: it implements no sleepable helper or kfunc).
    const regs = this.regs();
    p.args.forEach((a, j) => {
      const r = j + 1;
      const reg = this.readReg(r);
      if (a.kind === 'scalar') {
        if (reg.type !== 'scalar') invalid(`R${r} is not a scalar`, 'EINVAL', [r], `argument ${j} of ${name}() is an integer in its prototype`);
        return;
      }
      if (a.kind === 'ctx') {
        if (reg.type === 'ctx' && (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n))
          invalid(`dereference of modified ctx ptr R${r} off=${reg.off} disallowed`, 'EINVAL', [r], 'pass the context pointer the program received, unmoved');
        if (reg.type !== 'ctx') invalid(`arg#${j} expects pointer to ctx`, 'EINVAL', [r], `argument ${j} of ${name}() is the program's context in its prototype`);
        return;
      }
      // check_mem_reg: NULL is fine; otherwise `size` bytes the callee may read and write
      if (reg.isNull) return;
      const asNonNull = reg.clone();
      asNonNull.maybeNull = false;
      try {
        this.helperMemAccess(r, asNonNull, a.size, false, true);
        if (reg.type !== 'fp') this.helperMemAccess(r, asNonNull, a.size, true, true);
      } catch (e) {
        if (e instanceof Reject) invalid(e.kernelMessage, 'EINVAL', [r], `argument ${j} of ${name}() points to ${a.size} bytes the function may read and write`);
        throw e;
      }
      if (!a.nullable && reg.maybeNull) invalid(`arg#${j} is expected to be non-NULL`, 'EINVAL', [r]);
    });
    if (this.logLevel > 0) {
      this.flushInsnLog();
      this.log(`Func#${k} ('${name}') is global and assumed valid.`);
    }
    g.called = true;
    if (g.changesPkt) for (const r of this.cur.allRegs()) if (r.isPkt || r.type === 'pkt_end') Object.assign(r, Reg.unknown());
    for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
    regs[0] = Reg.unknown();
    if (this.logLevel > 1) for (let r = 0; r <= 5; r++) this.scratchRegs.add(r);
    return i + 1;
  }

  /** Push a frame for a bpf-to-bpf call or a callback. */
  enterFunc(callsite: number, target: number, callbackOf: number, args: Reg[] | null): number {
    const st = this.cur;
    if (st.frames.length >= op.MAX_CALL_FRAMES)
      throw new Reject({
        errno: 'E2BIG',
        message: `the call stack of ${st.frames.length + 1} frames is too deep !`,
        insn: callsite,
        hint: 'flatten the call chain (at most 8 nested functions)',
        rule: 'more than 8 nested function calls',
      });
    const caller = st.cur;
    const f = new Frame(st.frames.length, callsite, target);
    if (args) {
      for (let r = 1; r <= 5; r++) f.regs[r] = args[r - 1] ? args[r - 1]!.clone() : Reg.notInit();
      f.callbackOf = callbackOf;
      f.callbackArgs = args.map((a) => a.clone());
      f.callbackEntry = st.frames.map((fr) => fr.stack.map((x) => x?.clone()));
    } else {
      for (let r = 1; r <= 5; r++) f.regs[r] = caller.regs[r]!.clone();
    }
    f.regs[10] = Reg.ptr('fp', { frameno: f.frameno });
    st.frames.push(f);
    if (this.logLevel > 0) {
      this.flushInsnLog();
      this.log(`caller:\n ${frameStr(caller, this)}\ncallee:\n ${frameStr(f, this)}`);
    }
    return target;
  }

  checkExit(): number {
    const i = this.idx;
    const st = this.cur;
    const f = st.cur;
    // prepare_func_exit hands r0 to the caller whatever it holds, uninitialised included (the caller's
    // own use or exit then checks it); only the main program's and a callback's exit read it here.
    const r0 = st.frames.length > 1 && !f.callbackOf ? this.regs()[0]! : this.readReg(0);
    if (st.frames.length > 1) {
      // Return from a bpf-to-bpf call or a callback (prepare_func_exit), which refuses any stack pointer
      // (only the callee's own frame dies, but Linux is conservative).
      if (r0.type === 'fp')
        throw new Reject({
          errno: 'EINVAL',
          message: 'cannot return stack pointer to the caller frame',
          insn: i,
          regs: [0],
          hint: 'return a value, or write through a pointer the caller passed in',
          rule: 'a function returns a stack pointer (Linux refuses any, even one into a caller\'s frame)',
        });
      if (f.callbackOf) {
        if (r0.type !== 'scalar' || r0.s.smin < 0n || r0.s.smax > 1n) {
          const has = r0.type !== 'scalar' ? ` is not a known value (${regTypeStr(r0)})` : this.rangeText(r0);
          throw new Reject({
            errno: 'EINVAL',
            message: r0.type !== 'scalar' ? `At callback return the register R0${has}` : `At callback return the register R0 has${has} should have been in [0, 1]`,
            insn: i,
            regs: [0],
            hint: 'return 0 to continue the iteration or 1 to stop it',
            rule: 'a callback must return 0 or 1',
          });
        }
        const helperInsn = f.callsite;
        // The helper may call the callback again (bpf_loop: while fewer than nr_loops calls were made):
        // explore another iteration from here.
        if (f.callbackMax < 0 || f.callbackIter < f.callbackMax) {
          const again = st.clone();
          const af = again.cur;
          // A callback called a known, small number of times, not itself inside a callback, is unrolled
          // exactly, as Linux unrolls it keeping precise scalars exact; otherwise (tsbpf has no precision
          // marks on the stack to tell which values matter) widen, so that the iterations converge.
          const nested = st.frames.some((x) => x !== f && x.callbackOf !== 0);
          // (Widening is always sound: past a quarter of the instruction budget, unrolling gives way to it.)
          if (f.callbackMax < 0 || f.callbackMax > 256 || nested || this.processed > this.limit / 4) this.widenCallerStacks(again);
          for (let r = 0; r <= 9; r++) af.regs[r] = Reg.notInit();
          for (let r = 1; r <= 5; r++) af.regs[r] = af.callbackArgs?.[r - 1]?.clone() ?? Reg.notInit();
          af.stack = [];
          af.callbackIter++;
          again.path = { insn: i, to: af.subprog, taken: true, prev: again.path };
          this.push(again, af.subprog, i);
        }
        st.frames.pop();
        const caller = st.cur;
        for (let r = 1; r <= 5; r++) caller.regs[r] = Reg.notInit();
        caller.regs[0] = Reg.unknown();
        if (this.logLevel > 0) { this.flushInsnLog(); this.log(`returning from callee:\n ${frameStr(f, this)}\nto caller at ${helperInsn + 1}:\n ${frameStr(caller, this)}`); }
        return helperInsn + 1;
      }
      st.frames.pop();
      const caller = st.cur;
      caller.regs[0] = r0.clone();
      for (let r = 1; r <= 5; r++) caller.regs[r] = Reg.notInit();
      if (this.logLevel > 0) { this.flushInsnLog(); this.log(`returning from callee:\n ${frameStr(f, this)}\nto caller at ${f.callsite + 1}:\n ${frameStr(caller, this)}`); }
      return f.callsite + 1;
    }
    if (f.subprog !== 0) return this.checkGlobalExit(i, r0);
    if (st.rcuLock)
      throw new Reject({
        errno: 'EINVAL',
        message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region',
        insn: i,
        hint: 'call bpf_rcu_read_unlock() on every path before returning',
        rule: 'the program returns inside a bpf_rcu_read_lock() section',
      });
    if (st.preemptLock)
      // Linux 6.18's words (6.12 said "N bpf_preempt_enable(s) are missing")
      throw new Reject({
        errno: 'EINVAL',
        message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region',
        insn: i,
        hint: 'match every bpf_preempt_disable() with a bpf_preempt_enable() on every path',
        rule: 'the program returns with preemption disabled',
      });
    if (r0.isPointer && !this.privileged) throw new Reject({
      errno: 'EACCES',
      message: 'R0 leaks addr as return value',
      insn: i,
      regs: [0],
      hint: 'return a number, not a pointer',
      rule: 'unprivileged programs may not return pointers',
    });
    const range = this.rules.retRange;
    if (range) {
      if (r0.type !== 'scalar') throw new Reject({
        errno: 'EINVAL',
        message: `At program exit the register R0 is not a known value (${regTypeStr(r0)})`,
        insn: i,
        regs: [0],
      });
      if (r0.s.smin < BigInt(range[0]) || r0.s.smax > BigInt(range[1]))
        throw new Reject({
          errno: 'EINVAL',
          message: `At program exit the register R0 has${this.rangeText(r0)} should have been in [${range[0]}, ${range[1]}]`,
          insn: i,
          regs: [0],
          hint: `return a value in [${range[0]}, ${range[1]}]`,
          rule: `${this.rules.name} programs must return a value in [${range[0]}, ${range[1]}]`,
        });
    }
    if (st.refs.length) {
      const ref = st.refs[0]!;
      throw new Reject({
        errno: 'EINVAL',
        message: `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`,
        insn: i,
        hint: `every path must pass the memory from bpf_ringbuf_reserve (insn ${ref.insn}) to bpf_ringbuf_submit or bpf_ringbuf_discard before returning`,
        rule: 'a ring buffer reservation is not released on this path',
      });
    }
    return -1;
  }

  /** The end of a global function verified on its own: its sections closed, its references released, a number returned. */
  checkGlobalExit(i: number, r0: Reg): number {
    const st = this.cur;
    if (st.rcuLock) throw new Reject({
      errno: 'EINVAL',
      message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region',
      insn: i,
      hint: 'call bpf_rcu_read_unlock() before returning',
    });
    if (st.preemptLock) throw new Reject({
      errno: 'EINVAL',
      message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region',
      insn: i,
      hint: 'call bpf_preempt_enable() before returning',
    });
    if (st.refs.length) {
      const ref = st.refs[0]!;
      throw new Reject({
        errno: 'EINVAL',
        message: `Unreleased reference id=${ref.id} alloc_insn=${ref.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`,
        insn: i,
        hint: `every path must pass the memory from bpf_ringbuf_reserve (insn ${ref.insn}) to bpf_ringbuf_submit or bpf_ringbuf_discard before returning`,
      });
    }
    if (r0.type !== 'scalar')
      throw new Reject({
        errno: 'EINVAL',
        message: `At subprogram exit the register R0 is not a scalar value (${regTypeStr(r0)})`,
        insn: i,
        regs: [0],
        hint: 'global functions return a number',
        rule: 'a global function returns a pointer',
      });
    return -1;
  }

  rangeText(r: Reg): string {
    let t = '';
    if (r.s.smin > -(1n << 63n)) t += ` smin=${r.s.smin}`;
    if (r.s.smax < (1n << 63n) - 1n) t += ` smax=${r.s.smax}`;
    return t || ' unknown scalar value';
  }

  /**
   * Before another callback iteration, forget what the previous iteration
   * wrote into the callers' stacks: values that changed become unknown, so
   * that the iterations converge (the kernel gets the same effect from its
   * precision tracking, which lets imprecise scalars differ).
   */
  widenCallerStacks(st: VerifierState): void {
    const entry = st.cur.callbackEntry;
    for (let k = 0; k < st.frames.length - 1; k++) {
      const f = st.frames[k]!;
      const before = entry?.[k] ?? [];
      f.stack.forEach((s, spi) => {
        if (!s) return;
        const b = before[spi];
        if (s.spilled && s.spilled.type === 'scalar') {
          const same = b?.spilled && b.spilled.type === 'scalar' && b.spilled.s.equals(s.spilled.s) && b.t.every((t, j) => t === s.t[j]);
          if (!same && !s.spilled.s.isUnknown()) {
            let n = 0;
            for (let j = 0; j < 8; j++) if (s.t[j] === STACK_SPILL) n++;
            s.spilled = Reg.scalar(n < 8 ? Scalar.urange(0n, (1n << BigInt(n * 8)) - 1n) : Scalar.unknown());
          }
        }
        for (let j = 0; j < 8; j++) if (s.t[j] === STACK_ZERO && b?.t[j] !== STACK_ZERO) s.t[j] = STACK_MISC;
      });
    }
  }

  // --- kfuncs ---------------------------------------------------------------

  /**
   * check_kfunc_call for the kfuncs tsbpf implements (kfuncs.ts): the name
   * comes from the object's `__ksym` relocation; their signature is
   * `void (void)`, so no argument is read, r0-r5 are clobbered and r0 is left
   * uninitialised; the RCU and preemption sections they open and close are
   * tracked as the kernel tracks them.
   */
  checkKfuncCall(i: number, _ins: Insn): number {
    const name = this.input.kfuncOfInsn!(i)!;
    const k = KFUNCS.get(name);
    if (!k) {
      if (LINUX_ONLY_KFUNCS.has(name))
        throw new Reject({
          errno: 'ENOTSUPP',
          message: `calling kernel function ${name} is not supported by tsbpf`,
          insn: i,
          hint: `tsbpf implements the kfuncs ${[...KFUNCS.keys()].join(', ')}`,
          rule: `${name} is a Linux kfunc that tsbpf does not implement`,
        });
      throw new Reject({
        errno: 'EACCES',
        message: `calling kernel function ${name} is not allowed`,
        insn: i,
        hint: `tsbpf implements the kfuncs ${[...KFUNCS.keys()].join(', ')}`,
        rule: `${name} is not a kfunc programs may call`,
      });
    }
    const st = this.cur;
    switch (k.effect) {
      case 'rcu_lock':
        if (st.rcuLock) throw new Reject({
          errno: 'EINVAL',
          message: `nested rcu read lock (kernel function ${name})`,
          insn: i,
          hint: 'RCU read sections do not nest: unlock before locking again',
        });
        st.rcuLock = true;
        break;
      case 'rcu_unlock':
        if (!st.rcuLock) throw new Reject({
          errno: 'EINVAL',
          message: `unmatched rcu read unlock (kernel function ${name})`,
          insn: i,
          hint: 'call bpf_rcu_read_lock() first on every path reaching this unlock',
        });
        st.rcuLock = false;
        break;
      case 'preempt_disable':
        st.preemptLock++;
        break;
      case 'preempt_enable':
        if (!st.preemptLock) throw new Reject({
          errno: 'EINVAL',
          message: `unmatched attempt to enable preemption (kernel function ${name})`,
          insn: i,
          hint: 'call bpf_preempt_disable() first on every path reaching this call',
        });
        st.preemptLock--;
        break;
    }
    const regs = this.regs();
    for (let r = 0; r <= 5; r++) regs[r] = Reg.notInit();
    if (this.logLevel > 1) for (let r = 0; r <= 5; r++) this.scratchRegs.add(r);
    return i + 1;
  }

  // --- helpers ------------------------------------------------------------

  checkHelperCall(i: number, id: number): number {
    const h = this.helper(id);
    // A helper Linux has whose state tsbpf does not model (helper-protos.ts UNMODELLED_HELPERS): unsupported, not a verdict.
    const unmodelled = h ? undefined : UNMODELLED_HELPERS.get(id);
    if (unmodelled) throw new Reject({
      errno: 'ENOTSUPP',
      message: `bpf_${unmodelled.name}#${id} is not supported by tsbpf: ${unmodelled.why}`,
      insn: i,
      rule: `bpf_${unmodelled.name} is not supported by tsbpf`,
    });
    if (!h) throw new Reject({
      errno: 'EINVAL',
      message: `invalid func unknown#${id}`,
      insn: i,
      hint: 'tsbpf implements the helpers listed by `tsbpf` docs; this id is not one of them',
      rule: `helper #${id} is not available`,
    });
    const proto = h.proto;
    const name = `bpf_${h.name}`;
    if (!this.privileged && (UNPRIV_FORBIDDEN_HELPERS.has(id) || PRIVILEGED_HELPERS.has(id)))
      throw new Reject({
        errno: 'EINVAL',
        message: `program of this type cannot use helper ${name}#${id}`,
        insn: i,
        rule: `${name} needs privileges (CAP_BPF or CAP_PERFMON)`,
      });
    if (!helperAllowed(this.rules.name, id, this.input.attachType))
      throw new Reject({
        errno: 'EINVAL',
        message: `program of this type cannot use helper ${name}#${id}`,
        insn: i,
        rule: `${name} is not available to ${this.rules.name} programs`,
      });
    if (id === 12 && this.cur.refs.length)
      throw new Reject({
        errno: 'EINVAL',
        message: 'tail_call would lead to reference leak',
        insn: i,
        hint: 'submit or discard ring buffer reservations before a tail call',
        rule: 'a tail call never returns, so held references would leak',
      });
    if (id === 12 && this.cur.rcuLock)
      throw new Reject({
        errno: 'EINVAL',
        message: 'tail_call cannot be used inside bpf_rcu_read_lock-ed region',
        insn: i,
        hint: 'call bpf_rcu_read_unlock() before the tail call',
      });
    if (id === 12 && this.cur.preemptLock)
      throw new Reject({
        errno: 'EINVAL',
        message: 'tail_call cannot be used inside bpf_preempt_disable-ed region',
        insn: i,
        hint: 'call bpf_preempt_enable() before the tail call',
      });
    if (proto.gplOnly && !GPL_COMPATIBLE.has(this.input.license ?? 'GPL'))
      throw new Reject({
        errno: 'EINVAL',
        message: 'cannot call GPL-restricted function from non-GPL compatible program',
        insn: i,
        hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
        rule: `${name} is only available to GPL-compatible programs`,
      });
    const regs = this.regs();
    let mapIdx = -1;
    let memReg = -1;
    let funcTarget = -1;
    let allocSize = -1;
    let releaseRef = 0;
    let sizeMax = -1n;
    const keyReg = regs[2]!.clone();
    proto.args.forEach((t, k) => {
      const r = k + 1;
      if (k >= (VARIADIC_CHECKED_ARGS[id] ?? 5)) return;
      const reg = this.readReg(r);
      // check_func_arg: a packet pointer may go only to helpers whose proto sets pkt_access (may_access_direct_pkt_data with a meta)
      if (t !== 'ANYTHING' && reg.isPkt && !PKT_ACCESS_HELPERS.has(id))
        throw new Reject({
          errno: 'EACCES',
          message: 'helper access to the packet is not allowed',
          insn: i,
          regs: [r],
          hint: 'copy the bytes with bpf_skb_load_bytes / bpf_xdp_load_bytes, or pass a stack buffer',
          rule: `${name} cannot take a pointer into the packet`,
        });
      const bad = (expected: string): never => {
        if (reg.sock) throw sockUnsupported(this, r);
        throw new Reject({
          errno: 'EACCES',
          message: `R${r} type=${regTypeStr(reg)} expected=${expected}`,
          insn: i,
          regs: [r],
          hint: `argument ${r} of ${name} must be ${expected.replace(/, /g, ' or ')}`,
          rule: `argument ${r} of ${name} has the wrong type`,
        });
      };
      switch (t) {
        case 'ANYTHING':
          if (reg.isPointer && !this.privileged) throw new Reject({
            errno: 'EACCES',
            message: `R${r} leaks addr into helper function`,
            insn: i,
            regs: [r],
          });
          return;
        case 'CONST_MAP_PTR':
          // A map-in-map lookup's result is a map pointer only once null-checked (mark_ptr_or_null_reg).
          if (reg.type !== 'map_ptr' || reg.maybeNull) bad('map_ptr');
          mapIdx = reg.map;
          sockMapUnsupported(this, id, name, mapIdx);
          return;
        case 'PTR_TO_MAP_KEY':
        case 'PTR_TO_MAP_VALUE':
        case 'PTR_TO_UNINIT_MAP_VALUE': {
          const m = this.maps[mapIdx];
          if (!m) throw new Reject({
            errno: 'EACCES',
            message: `invalid map_ptr to access map->${t === 'PTR_TO_MAP_KEY' ? 'key' : 'value'}`,
            insn: i,
            regs: [r],
          });
          if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, pkt, pkt_meta, map_key, map_value');
          const size = t === 'PTR_TO_MAP_KEY' ? m.keySize : m.valueSize;
          if (size === 0) throw new Reject({
            errno: 'EACCES',
            message: 'invalid zero-sized read',
            insn: i,
            regs: [r],
            rule: `the ${m.type} map has no ${t === 'PTR_TO_MAP_KEY' ? 'keys' : 'values'} to pass`,
          });
          this.helperMemAccess(r, reg, size, t === 'PTR_TO_UNINIT_MAP_VALUE', false);
          return;
        }
        case 'PTR_TO_MEM':
        case 'PTR_TO_MEM_OR_NULL':
        case 'PTR_TO_UNINIT_MEM':
          if (t === 'PTR_TO_MEM_OR_NULL' && reg.isNull) { memReg = r; return; }
          if (!['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem');
          memReg = r;
          return;
        case 'CONST_SIZE':
        case 'CONST_SIZE_OR_ZERO': {
          if (reg.type !== 'scalar') bad('scalar');
          const s = reg.s;
          if (s.smin < 0n) throw new Reject({
            errno: 'EACCES',
            message: `R${r} min value is negative, either use unsigned or 'var &= const'`,
            insn: i,
            regs: [r],
            hint: `make the size unsigned or bound it, e.g. \`len &= 0xff\``,
            rule: 'the size argument may be negative',
          });
          if (s.umin === 0n && t === 'CONST_SIZE') throw new Reject({
            errno: 'EACCES',
            message: `R${r} invalid zero-sized read: u64=[${s.umin},${s.umax}]`,
            insn: i,
            regs: [r],
            hint: 'check that the size is at least 1 before the call',
            rule: 'the size argument may be zero',
          });
          if (s.umax >= BigInt(BPF_MAX_VAR_OFF)) throw new Reject({
            errno: 'EACCES',
            message: `R${r} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
            insn: i,
            regs: [r],
            hint: `bound the size, e.g. \`if (len > sizeof(buf)) return 0;\``,
            rule: 'the size argument has no upper bound',
          });
          const prev = this.proto_arg(proto, k - 1);
          sizeMax = s.umax;
          if (memReg === r - 1) {
            const pr = regs[r - 1]!;
            if (!(pr.isNull && prev === 'PTR_TO_MEM_OR_NULL')) {
              // check_mem_size_reg checks the region even for a size of 0 (a stack pointer must still be inside the stack).
              this.helperMemAccess(r - 1, pr, Number(s.umax), prev === 'PTR_TO_UNINIT_MEM', false);
            } else if (s.umax > 0n) {
              throw new Reject({
                errno: 'EACCES',
                message: `R${r - 1} type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem`,
                insn: i,
                regs: [r - 1, r],
              });
            }
          }
          return;
        }
        case 'CONST_ALLOC_SIZE_OR_ZERO':
          if (reg.type !== 'scalar' || !reg.s.isConst()) throw new Reject({
            errno: 'EACCES',
            message: `R${r} is not a known constant'`,
            insn: i,
            regs: [r],
            hint: 'pass a compile-time constant size to bpf_ringbuf_reserve',
            rule: 'the reservation size must be a constant',
          });
          allocSize = Number(reg.s.varOff.value);
          return;
        case 'PTR_TO_CTX':
        case 'PTR_TO_CTX_OR_NULL':
          if (t === 'PTR_TO_CTX_OR_NULL' && reg.isNull) return;
          if (reg.type !== 'ctx') bad('ctx');
          if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
            throw new Reject({
              errno: 'EACCES',
              message: `dereference of modified ctx ptr R${r} off=${reg.off} disallowed`,
              insn: i,
              regs: [r],
              hint: 'pass the original context pointer (r1 at entry) to the helper',
            });
          return;
        case 'PTR_TO_FUNC':
          if (reg.type !== 'func') bad('func');
          // check_func_arg_reg_off -> __check_ptr_off_reg: the function pointer exactly as ld_imm64 made it
          if (reg.off !== 0) throw new Reject({
            errno: 'EACCES',
            message: `${reg.off < 0 ? 'negative offset' : 'dereference of modified'} func ptr R${r} off=${reg.off} disallowed`,
            insn: i,
            regs: [r],
          });
          if (!reg.s.isConst() || reg.s.varOff.value !== 0n) throw new Reject({
            errno: 'EACCES',
            message: `variable func access var_off=${tnumStr(reg.s.varOff)} disallowed`,
            insn: i,
            regs: [r],
          });
          funcTarget = reg.subprog;
          return;
        case 'PTR_TO_STACK':
        case 'PTR_TO_STACK_OR_NULL':
          if (t === 'PTR_TO_STACK_OR_NULL' && reg.isNull) return;
          if (reg.type !== 'fp') bad('fp');
          return;
        case 'PTR_TO_RINGBUF_MEM':
          if (reg.type !== 'mem' || !reg.ringbuf || reg.maybeNull) bad('ringbuf_mem');
          if (!reg.refObjId || !this.cur.refs.some((x) => x.id === reg.refObjId)) throw new Reject({
            errno: 'EINVAL',
            message: `arg ${r} is an unacquired reference`,
            insn: i,
            regs: [r],
          });
          if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
            throw new Reject({
              errno: 'EINVAL',
              message: `R${r} must have zero offset when passed to release func`,
              insn: i,
              regs: [r],
              hint: 'pass the pointer exactly as bpf_ringbuf_reserve returned it',
            });
          releaseRef = reg.refObjId;
          return;
        case 'PTR_TO_CONST_STR': {
          const m = this.maps[reg.map];
          if (reg.type !== 'map_value' || !m) bad('map_value');
          if (!m!.frozen || !(m!.flags & BPF_F_RDONLY_PROG) || !m!.contents) throw new Reject({
            errno: 'EACCES',
            message: `R${r} does not point to a readonly map'`,
            insn: i,
            regs: [r],
            hint: 'use a string constant (it lives in .rodata)',
          });
          if (!reg.s.isConst()) throw new Reject({ errno: 'EACCES', message: `R${r} is not a constant address'`, insn: i, regs: [r] });
          const start = reg.off + Number(reg.s.varOff.value);
          const c = m!.contents!;
          let ok = false;
          for (let p = start; p < c.length; p++) if (c[p] === 0) { ok = true; break; }
          if (!ok || start < 0) throw new Reject({ errno: 'EINVAL', message: 'string is not zero-terminated', insn: i, regs: [r] });
          return;
        }
        case 'PTR_TO_LONG':
        case 'PTR_TO_U32': {
          // ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT (or MEM_WRITE) | MEM_ALIGNED (strtol/strtoul: 8 bytes; check_mtu: 4): writable, strictly aligned
          const n = t === 'PTR_TO_LONG' ? 8 : 4;
          if (!['fp', 'map_key', 'map_value', 'mem'].includes(reg.type) || reg.maybeNull) bad('fp, map_key, map_value, mem');
          // check_func_arg: the access first, then the alignment (MEM_ALIGNED)
          this.helperMemAccess(r, reg, n, true, false);
          const mis = strictAlignError(reg, 0, n);
          if (mis) throw new Reject({
            errno: 'EACCES',
            message: mis,
            insn: i,
            regs: [r],
            hint: `pass a ${n}-byte aligned buffer`,
            rule: `argument ${r} of ${name} must be ${n}-byte aligned`,
          });
          return;
        }
        default:
          throw new Reject({ errno: 'EINVAL', message: `helper argument type ${t} is not supported`, insn: i, regs: [r] });
      }
    });
    // check_map_func_compatibility, both directions (func-compat.ts).
    if (mapIdx >= 0) {
      const mt = this.maps[mapIdx]!.type;
      if (id === 12 && mt !== 'prog_array')
        throw new Reject({
          errno: 'EINVAL',
          message: 'expected prog array map for tail call',
          insn: i,
          regs: [2],
          hint: 'bpf_tail_call takes a BPF_MAP_TYPE_PROG_ARRAY map',
          rule: 'tail calls go through a program array',
        });
      const why = mapFuncIncompatibility(mt, mapTypeId(mt), id, name, this.rules.name, this.input.attachType);
      if (why) throw new Reject({
        errno: 'EINVAL',
        message: why,
        insn: i,
        regs: [1],
        rule: `${name} cannot be used with a ${mt} map${why.startsWith('cannot update sockmap') ? ` in ${this.rules.name} programs` : ''}`,
      });
    }
    // get_local_storage cannot fail, so it takes no flags (check_helper_call)
    if (id === 81 && !(regs[2]!.type === 'scalar' && regs[2]!.s.isConst() && regs[2]!.s.varOff.value === 0n))
      throw new Reject({
        errno: 'EINVAL',
        message: "get_local_storage() doesn't support non-zero flags",
        insn: i,
        regs: [2],
        hint: 'pass 0 as the flags argument',
      });
    if (releaseRef) {
      this.cur.refs = this.cur.refs.filter((x) => x.id !== releaseRef);
      for (const r of this.cur.allRegs()) if (r.refObjId === releaseRef) Object.assign(r, this.privileged ? Reg.unknown() : Reg.notInit());
    }
    if (proto.changesPktData) {
      for (const r of this.cur.allRegs()) if (r.isPkt || r.type === 'pkt_end') Object.assign(r, Reg.unknown());
    }
    // bpf_loop calls its callback at most nr_loops (R1) times: Linux counts the calls along each path
    // (callback_depth < umax(R1) in check_helper_call) and never calls it when R1 is 0.
    const loopMax = id === HELPER_LOOP && regs[1]!.type === 'scalar' ? regs[1]!.s.umax : -1n;
    // Callbacks: verify the function with the arguments the helper passes.
    if ((id === HELPER_LOOP || id === HELPER_FOR_EACH) && funcTarget >= 0 && loopMax !== 0n) {
      const ctxArg = regs[3]!.clone();
      let args: Reg[];
      if (id === HELPER_LOOP) args = [Reg.scalar(Scalar.urange(0n, 0xffffffffn)), ctxArg];
      else {
        const m = this.maps[mapIdx]!;
        args = [Reg.ptr('map_ptr', { map: mapIdx }), Reg.ptr('map_key', { map: mapIdx }), Reg.ptr('map_value', { map: mapIdx }), ctxArg];
        void m;
      }
      // The callback may run zero times: the path that skips it continues after the call.
      const skip = this.cur.clone();
      const sr = skip.cur.regs;
      for (let r = 1; r <= 5; r++) sr[r] = Reg.notInit();
      sr[0] = Reg.unknown();
      skip.path = { insn: i, to: i + 1, taken: false, prev: skip.path };
      this.push(skip, i + 1, i);
      this.cur.path = { insn: i, to: funcTarget, taken: true, prev: this.cur.path };
      const next = this.enterFunc(i, funcTarget, id, args);
      const cf = this.cur.cur;
      cf.callbackIter = 1;
      cf.callbackMax = loopMax > 0n && loopMax <= 0xffffffffn ? Number(loopMax) : -1;
      return next;
    }
    for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
    if (this.logLevel > 1) for (let r = 0; r <= 5; r++) this.scratchRegs.add(r);
    switch (proto.ret) {
      case 'INTEGER': {
        const r0 = Reg.unknown();
        if (id === 8) r0.s = Scalar.urange(0n, 255n); // get_smp_processor_id: < nr_cpu_ids
        // do_refine_retval_range: get_stack and the *_str reads return [-MAX_ERRNO, size]
        if (RET_BOUNDED_BY_SIZE.has(id) && sizeMax >= 0n) r0.s = retBoundedBySize(sizeMax);
        regs[0] = r0;
        break;
      }
      case 'VOID':
        regs[0] = Reg.notInit();
        break;
      case 'PTR_TO_MAP_VALUE_OR_NULL':
      case 'PTR_TO_MAP_VALUE':
        if (mapIdx >= 0 && this.innerOf[mapIdx]! >= 0) {
          // A map of maps holds map pointers: the lookup yields the inner map (or NULL).
          regs[0] = Reg.ptr('map_ptr', { map: this.innerOf[mapIdx]!, id: this.newId(), maybeNull: true });
          break;
        }
        if (id === 1 && this.constKeyInRange(mapIdx, keyReg)) {
          // An array lookup with a constant key below max_entries cannot fail (Linux 6.18 skips the NULL check).
          regs[0] = Reg.ptr('map_value', { map: mapIdx });
          break;
        }
        regs[0] = Reg.ptr('map_value', { map: mapIdx, id: this.newId(), maybeNull: proto.ret === 'PTR_TO_MAP_VALUE_OR_NULL' });
        break;
      case 'PTR_TO_RINGBUF_MEM_OR_NULL': {
        // As the kernel does: a fresh id for null-check propagation, another for the reference.
        const idv = this.newId();
        const ref = this.newId();
        regs[0] = Reg.ptr('mem', { memSize: allocSize, ringbuf: true, id: idv, refObjId: ref, maybeNull: true });
        this.cur.refs.push({ id: ref, insn: i });
        break;
      }
      case 'PTR_TO_MEM_OR_NULL':
        regs[0] = Reg.ptr('mem', { memSize: 0, id: this.newId(), maybeNull: true });
        break;
    }
    if (id === 1 && mapIdx >= 0) this.aux[i] = { ...(this.aux[i] ?? {}) };
    // A tail call made in a bpf-to-bpf function that succeeds returns to the function's caller, with
    // the tail-called program's r0 and the packet possibly moved. Linux 6.18 explores that return
    // beside the failed call's fall-through (which keeps the packet pointers): pkt pointers of every
    // frame are cleared, r0 is unknown and the function exits. In the main program (or a global
    // function verified on its own) a successful tail call never comes back, so only the
    // fall-through is explored. (Not inside callbacks, whose return value the helper checks.)
    if (id === 12 && this.cur.frames.length > 1 && !this.cur.frames.some((f) => f.callbackOf !== 0)) {
      const failed = this.cur.clone();
      failed.path = { insn: i, to: i + 1, taken: false, prev: failed.path };
      this.push(failed, i + 1, i);
      for (const r of this.cur.allRegs()) if (r.isPkt || r.type === 'pkt_end') Object.assign(r, Reg.unknown());
      this.regs()[0] = Reg.unknown();
      this.cur.path = { insn: i, to: this.cur.cur.callsite + 1, taken: true, prev: this.cur.path };
      return this.checkExit();
    }
    return i + 1;
  }

  /** The key at `key` is a known constant below the array's max_entries. */
  constKeyInRange(mapIdx: number, key: Reg): boolean {
    const m = this.maps[mapIdx];
    if (!m || (m.type !== 'array' && m.type !== 'percpu_array') || key.type !== 'fp' || !key.s.isConst()) return false;
    const o = key.off + Number(BigInt.asIntN(64, key.s.varOff.value));
    if (o < -op.MAX_BPF_STACK || o + 4 > 0) return false;
    const f = this.cur.frames[key.frameno]!;
    const slot = f.stack[Math.floor((-o - 1) / 8)];
    if (!slot) return false;
    let v: bigint | undefined;
    if ((-o) % 8 === 0 && slot.isSpill && slot.spilled?.type === 'scalar' && slot.spilled.s.isConst()) v = slot.spilled.s.varOff.value & 0xffffffffn;
    else {
      let zero = true;
      for (let b = 0; b < 4; b++) {
        const byte = -(o + b) - 1;
        if (f.stack[Math.floor(byte / 8)]?.t[byte % 8] !== STACK_ZERO) zero = false;
      }
      if (zero) v = 0n;
    }
    return v !== undefined && v < BigInt(m.maxEntries);
  }

  proto_arg(p: HelperProto, k: number): ArgType | undefined {
    return p.args[k];
  }

  /** check_helper_mem_access: `size` bytes at the pointer, read (initialised) or written. */
  helperMemAccess(r: number, reg: Reg, size: number, write: boolean, _zeroOk: boolean): void {
    const i = this.idx;
    switch (reg.type) {
      case 'pkt':
      case 'pkt_meta':
        if (write && !this.rules.pktWrite) throw new Reject({
          errno: 'EACCES',
          message: 'helper access to the packet is not allowed',
          insn: i,
          regs: [r],
        });
        checkPacket(this, r, reg, 0, size);
        return;
      case 'map_value':
      case 'map_key': {
        const m = this.maps[reg.map];
        const limit = reg.type === 'map_key' ? (m?.keySize ?? 0) : (m?.valueSize ?? 0);
        // check_helper_mem_access: a callback's key is read-only; check_map_access_type: the map's BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG
        if (write && reg.type === 'map_key') throw new Reject({
          errno: 'EACCES',
          message: `R${r} cannot write into ${regTypeStr(reg)}`,
          insn: i,
          regs: [r],
          rule: 'the key passed to a for_each_map_elem callback is read-only',
        });
        if (write && m && reg.type === 'map_value' && (m.flags & BPF_F_RDONLY_PROG))
          throw new Reject({
            errno: 'EACCES',
            message: `write into map forbidden, value_size=${m.valueSize} off=${reg.off} size=${size}`,
            insn: i,
            regs: [r],
            rule: 'the map is read-only for programs (BPF_F_RDONLY_PROG, e.g. .rodata)',
          });
        if (!write && m && reg.type === 'map_value' && (m.flags & BPF_F_WRONLY_PROG))
          throw new Reject({
            errno: 'EACCES',
            message: `read from map forbidden, value_size=${m.valueSize} off=${reg.off} size=${size}`,
            insn: i,
            regs: [r],
            rule: 'the map is write-only for programs (BPF_F_WRONLY_PROG)',
          });
        checkRegion(this, r, reg, 0, size, limit, 'map');
        return;
      }
      case 'mem':
        if (write && reg.rdonly) throw new Reject({ errno: 'EACCES', message: `R${r} cannot write into ${regTypeStr(reg)}`, insn: i, regs: [r] });
        checkRegion(this, r, reg, 0, size, reg.memSize, 'mem');
        return;
      case 'fp': {
        const f = frameOf(this, reg);
        const s = reg.s;
        const lo = Number(s.smin) + reg.off, hi = Number(s.smax) + reg.off + size;
        if (!s.isConst() && !this.privileged) throw new Reject({
          errno: 'EACCES',
          message: `R${r} variable stack access prohibited for !root`,
          insn: i,
          regs: [r],
        });
        // check_stack_access_within_bounds: the lowest byte within [-512, -1] and the end at most 0 (so a zero-sized access at fp+0 is refused too)
        const how = write ? 'write to' : 'read from';
        if (!s.isConst() && (s.smin <= -BigInt(BPF_MAX_VAR_OFF) || s.smax >= BigInt(BPF_MAX_VAR_OFF)))
          throw new Reject({
            errno: 'EACCES',
            message: `invalid unbounded variable-offset ${how} stack R${r}`,
            insn: i,
            regs: [r],
            hint: 'bound the offset before passing the pointer',
            rule: 'the stack offset has no bounds',
          });
        if (lo < -op.MAX_BPF_STACK || lo > -1 || hi > 0)
          // EACCES when the first byte is outside the stack (check_stack_slot_within_bounds), EINVAL when the end is past fp
          throw new Reject({
            errno: lo < -op.MAX_BPF_STACK || lo > -1 ? 'EACCES' : 'EINVAL',
            message: s.isConst() ? `invalid ${how} stack R${r} off=${lo} size=${size}` : `invalid variable-offset ${how} stack R${r} var_off=${tnumStr(s.varOff)} off=${reg.off} size=${size}`,
            insn: i,
            regs: [r],
            hint: `the buffer passed in R${r} must lie within the 512-byte stack`,
            rule: 'the helper would access memory outside the stack',
          });
        noteDepth(this, f, lo);
        if (write) {
          for (let a = lo; a < hi; a++) {
            const byte = -a - 1;
            const slot = f.slot(Math.floor(byte / 8));
            if (slot.isSpill || slot.spilled) {
              for (let j = 0; j < 8; j++) if (slot.t[j] === STACK_SPILL) slot.t[j] = STACK_MISC;
              slot.spilled = null;
            }
            slot.t[byte % 8] = STACK_MISC;
            if (this.logLevel > 1 && f === this.cur.cur) this.scratchSlots.add(Math.floor(byte / 8));
          }
          return;
        }
        if (!s.isConst()) {
          for (let a = lo; a < hi; a++) {
            const byte = -a - 1;
            const t = f.stack[Math.floor(byte / 8)]?.t[byte % 8] ?? STACK_INVALID;
            if (t === STACK_INVALID && !this.privileged) throw new Reject({
              errno: 'EACCES',
              message: `invalid indirect read from stack R${r} var_off ${tnumStr(s.varOff)}+${reg.off} size ${size}`,
              insn: i,
              regs: [r],
            });
          }
          return;
        }
        const start = reg.off + Number(BigInt.asIntN(64, s.varOff.value));
        for (let b = 0; b < size; b++) {
          const byte = -(start + b) - 1;
          const slot = f.stack[Math.floor(byte / 8)];
          const t = slot ? slot.t[byte % 8]! : STACK_INVALID;
          if (t !== STACK_INVALID) continue;
          if (this.privileged) {
            // Root may pass uninitialised stack to helpers; it reads as unknown bytes.
            f.slot(Math.floor(byte / 8)).t[byte % 8] = STACK_MISC;
            continue;
          }
          throw new Reject({
            errno: 'EACCES',
            message: `invalid read from stack R${r} off ${start}+${b} size ${size}`,
            insn: i,
            regs: [r],
            hint: `initialise the ${size}-byte buffer at fp${start} before passing it (e.g. \`__u32 key = 0;\`)`,
            rule: 'the helper would read stack bytes that were never written',
          });
        }
        return;
      }
    }
    throw new Reject({
      errno: 'EACCES',
      message: `R${r} type=${regTypeStr(reg)} expected=fp, pkt, pkt_meta, map_key, map_value, mem`,
      insn: i,
      regs: [r],
    });
  }

  /** check_max_stack_depth (stack-depth.ts): the static call graph's chains, at most 8 frames and 512 bytes of stack. */
  checkMaxStackDepth(): void {
    const privStackType = ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'tracing'].includes(this.rules.name);
    const e = checkMaxStackDepth(this.insns, this.cfg.subprogStarts, (k) => this.stackDepth[k] ?? 0, privStackType);
    if (e) throw new Reject({ errno: e.errno, message: e.message, insn: e.insn, hint: e.hint, rule: e.rule });
  }
}

/**
 * func_states_equal's callback_depth rule: an old state covers the current
 * one only if every callback frame had at least as many calls of its
 * callback left (bpf_loop's nr_loops bound), since the old state's
 * exploration stopped iterating where it ran out.
 */
function callbacksCovered(old: VerifierState, cur: VerifierState): boolean {
  const n = Math.min(old.frames.length, cur.frames.length);
  for (let k = 0; k < n; k++) {
    const o = old.frames[k]!, c = cur.frames[k]!;
    if (c.callbackMax < 0) continue;
    if (o.callbackMax >= 0 && o.callbackMax - o.callbackIter < c.callbackMax - c.callbackIter) return false;
  }
  return true;
}


const TRACING_ATTACH: ReadonlySet<string> = new Set(['trace_fentry', 'trace_fexit', 'modify_return', 'trace_raw_tp']);

/**
 * The rules of a tracing program (fentry/fexit/fmod_ret/tp_btf): its context
 * is its target's arguments (bpf_check_attach_target, btf_ctx_access).
 */
function tracingRulesFor(input: VerifierInput): ProgTypeRules {
  const attach = input.attachType;
  if (!attach || !input.attachTo) throw new Reject({
    errno: 'EINVAL',
    message: 'Tracing programs must provide btf_id',
    insn: 0,
    hint: 'name the target in the section, e.g. SEC("fentry/bpf_fentry_test1") or SEC("tp_btf/task_newtask")',
  });
  if (!TRACING_ATTACH.has(attach))
    throw new Reject({
      errno: 'ENOTSUPP',
      message: `tracing programs of attach type ${attach} are not supported by tsbpf`,
      insn: 0,
      rule: 'tsbpf supports fentry, fexit, fmod_ret and tp_btf tracing programs',
    });
  const btf = input.kernelBtf ?? kernelBtf();
  const t: TracingTarget | string = tracingTarget(btf, attach as TracingAttach, input.attachTo);
  if (typeof t === 'string') throw new Reject({
    errno: 'ENOENT',
    message: `failed to find kernel BTF type ID of '${input.attachTo}': ${t}`,
    insn: 0,
    hint: 'tsbpf knows the targets its kernel BTF subset holds (src/verifier/kernel-btf.ts)',
  });
  return tracingRules(t);
}

/** Variadic helpers whose kernel proto covers only the leading arguments (trace_printk: fmt, fmt_size). */
const VARIADIC_CHECKED_ARGS: Record<number, number> = { 6: 2 };


/**
 * Helpers bpf_base_func_proto offers only with CAP_BPF (jiffies64, for_each_map_elem, loop) or
 * CAP_PERFMON (the tracing ones); probe_read/probe_read_str are tracing-only anyway. Checked against
 * 6.18 for unprivileged socket filters and cgroup skb programs (get_current_pid_tgid and
 * get_current_uid_gid are open to them).
 */
const UNPRIV_FORBIDDEN_HELPERS = new Set([4, 6, 45, 112, 113, 114, 115, 165, 16, 118, 164, 181]);

/**
 * The kernel's callback_unroll_depth, as far as the state's frames hold it:
 * is_state_visited reports an infinite loop only between states at the same
 * callback iteration (a bpf_loop callback entered again is progress).
 */
function callbackUnroll(st: VerifierState): number {
  let n = 0;
  for (const f of st.frames) n += f.callbackIter;
  return n;
}

/**
 * do_refine_retval_range for get_stack and the *_str reads: smax and s32max
 * become the size argument's umax, smin and s32min -MAX_ERRNO (4095), then
 * the bounds are synced (reg_bounds_sync).
 */
function retBoundedBySize(sizeMax: bigint): Scalar {
  const s = Scalar.unknown();
  s.smax = sizeMax;
  s.s32max = sizeMax;
  s.smin = -4095n;
  s.s32min = -4095n;
  s.sync();
  return s;
}

/** Helpers only some program types may call (the kernel's per-type get_func_proto). */
function helperAllowed(type: ProgTypeName, id: number, attachType?: string): boolean {
  return helperAvailable(type, id, attachType);
}


export { JSET_NOT, tnumConst, tnumIsConst, StackSlot };
