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
import type { Btf } from '../object/btf/btf.js';
import type { HelperProto } from '../helpers/proto.js';
import type { InsnAux } from '../vm/engine.js';
import { InstructionError } from '../errors.js';
import { validateProgram } from '../isa/validate.js';
import { Reg } from './types.js';
import { tnumConst, tnumIsConst } from './tnum.js';
import { Reject } from './reject.js';
import { VerifierState, Frame, StackSlot } from './state.js';
import { kernelBtf, tracingTarget } from './kernel-btf.js';
import { type GlobalProto, returnsScalar } from './global-func.js';
import { checkExit, checkCall } from './call.js';
import { frameStr, stateStr, insnLine, alignTo, regStr, type MapNames } from './log.js';
import { JSET_NOT } from './scalar.js';
import { buildCfg, CfgError, type Cfg } from './cfg.js';
import { statesEqual, statesMaybeLooping, type PruneContext } from './prune.js';
import { computePrecise, helperArgSinks, slotMatters, type Precision } from './precision.js';
import { progTypeRules, type ProgTypeRules } from './progtypes/index.js';
import { tracingRules, type TracingAttach, type TracingTarget } from './progtypes/tracing.js';
import { HELPER_PROTOS } from './helper-protos.js';
import { checkAbnormalReturn, checkAbnormalReturnType, checkMaxStackDepth } from './stack-depth.js';
import { exceptionCallbackName } from './exception-cb.js';
import { checkLdx, checkStore, checkAtomic } from './ldst.js';
import { checkLdImm64 } from './ld-imm64.js';
import { checkLdAbs } from './ld-abs.js';
import { checkAlu } from './alu.js';
import { checkMayGoto, checkCondJmp } from './branch.js';
import { findGlobalFuncs, verifyGlobalFunc } from './call-global.js';

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
    findGlobalFuncs(this);
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
        verifyGlobalFunc(this, k, g);
      }
    }
    this.checkMaxStackDepth();
  }

  /** Functions with global linkage in the program's BTF func_info (static ones are followed into at each call). */
  readonly globals = new Map<number, { start: number; typeId: number; proto?: GlobalProto; called: boolean; verified: boolean; changesPkt: boolean }>();

  
  
  
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
        if (o === op.BPF_EXIT) return checkExit(this);
        if (o === op.BPF_CALL) return checkCall(this, i, ins);
        if (o === op.BPF_JA) return i + 1 + (cls === op.BPF_JMP32 ? ins.imm : ins.off);
        if (o === op.BPF_JCOND) return checkMayGoto(this, i, ins);
        return checkCondJmp(this, i, ins, cls === op.BPF_JMP32);
      }
    }
    throw new Reject({ errno: 'EINVAL', message: `unknown opcode ${ins.code.toString(16).padStart(2, '0')}`, insn: i });
  }

  
  
  
  /** Per load/store instruction: whether its pointer was the context, on the paths seen so far (insn_aux_data.ptr_type). */
  readonly ctxPtrAt = new Map<number, boolean>();

  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
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


export { JSET_NOT, tnumConst, tnumIsConst, StackSlot };
