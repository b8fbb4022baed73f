/**
 * The verifier: prove a program safe before it runs.
 *
 *   const res = verify({ insns, progType: 'xdp', maps });
 *   if (!res.ok) throw res.error;   // a VerifierError with the whole log
 *
 * The analysis follows the Linux verifier (kernel/bpf/verifier.c), split as
 * PREVAIL separates what is known, what must hold and how a step changes it:
 * what is known is state.ts/types.ts (registers, stack slots, references)
 * with scalar*.ts/tnum.ts (the value domain); check.ts runs the stages in
 * the kernel's order over the env (env.ts); do-check.ts explores the paths
 * and prunes them (prune.ts); each instruction family (alu.ts, ldst.ts,
 * ld-imm64.ts, ld-abs.ts, branch.ts), memory region (stack.ts, packet.ts,
 * ctx.ts, map-value.ts, btf-access.ts) and kind of call (call*.ts,
 * helper-args.ts, helper-ret.ts, callback.ts) has a module saying what
 * must hold and what the step makes of the state; cfg.ts holds the
 * control-flow checks, progtypes/ the per-program-type rules, log.ts the
 * log format, reject.ts the value a violation throws.
 */
import type { InsnAux } from './insn-aux.js';
import { Verifier, type VerifierInput, type VerifierStats } from './env.js';
import { bpfCheck } from './check.js';
import { Reject } from './reject.js';
import { VerifierError, type SourceLocation } from './error.js';
import { insnLine } from './log.js';
import { formatInsn } from '../isa/disasm.js';
import { nowMs } from '../clock.js';

export type { VerifierInput, VerifierMapInfo, VerifierStats } from './env.js';
export { VerifierError, type SourceLocation, type VerifierErrorDetails } from './error.js';
export { progTypeRules, SUPPORTED_PROG_TYPES, type ProgTypeRules } from './progtypes/index.js';
export { HELPER_PROTOS } from './helper-protos.js';

export interface VerifierResult {
  ok: boolean;
  /** the log at the requested level (at level 0: only the rejection) */
  log: string;
  error?: VerifierError;
  /** per-slot facts for the execution engines */
  aux: InsnAux[];
  stats: VerifierStats;
}

/** The source line of instruction `i` from BTF line_info (the last record at or before it). */
function sourceLineOf(input: VerifierInput, i: number): SourceLocation | undefined {
  const li = input.lineInfo;
  if (!li || !li.length) return undefined;
  let best: (typeof li)[number] | undefined;
  for (const l of li) if (l.insnOff <= i && (!best || l.insnOff >= best.insnOff)) best = l;
  if (!best) return undefined;
  const loc: SourceLocation = { file: best.fileName, line: best.lineNum, column: best.lineCol };
  if (best.line) loc.text = best.line;
  return loc;
}

export function verify(input: VerifierInput): VerifierResult {
  const t0 = nowMs();
  let v: Verifier | undefined;
  try {
    v = new Verifier(input);
    try {
      bpfCheck(v);
    } catch (first) {
      // A callback's iterations widened a precise scalar and the program was refused: verify
      // again keeping precise scalars exact (env.ts callbackExact).
      if (!v.callbackWidenedPrecise) throw first;
      v = new Verifier(input);
      v.callbackExact = true;
      bpfCheck(v);
    }
    const timeUs = Math.round((nowMs() - t0) * 1000);
    const stats = v.stats(timeUs);
    if ((input.logLevel ?? 0) > 0) {
      v.logAlways(`verification time ${timeUs} usec`);
      v.logAlways(`stack depth ${stats.stackDepth.join('+')}`);
      v.logAlways(statsLine(stats));
    }
    return { ok: true, log: v.logText, aux: v.aux, stats };
  } catch (caught) {
    // A verifier bug must not crash the caller or let the program through: refuse it, saying why.
    const e = caught instanceof Reject ? caught
      : new Reject({
        errno: 'EFAULT',
        message: `verifier internal error: ${(caught as Error)?.message ?? String(caught)}`,
        insn: v?.currentInsn ?? 0,
        hint: 'this is a tsbpf bug; please report it with the object file',
      });
    const timeUs = Math.round((nowMs() - t0) * 1000);
    const stats = v ? v.stats(timeUs) : emptyStats(timeUs);
    if (v) {
      v.logAlways(e.kernelMessage);
      if ((input.logLevel ?? 0) > 0) {
        v.logAlways(statsLine(stats));
      }
    }
    const log = v ? v.logText : e.kernelMessage + '\n';
    const st = v?.currentState;
    const path: string[] = [];
    for (let p = st?.path ?? null; p; p = p.prev) {
      let text: string;
      try {
        text = formatInsn(input.insns, p.insn, { dialect: 'kernel', ll: false });
      } catch {
        text = '?';
      }
      path.unshift(`${p.insn}: ${text} -> ${p.taken ? 'taken' : 'not taken'}, to insn ${p.to}`);
    }
    let insnText: string | undefined;
    try {
      insnText = e.insn < input.insns.length ? insnLine(input.insns, e.insn) : undefined;
    } catch {
      insnText = undefined;
    }
    const registers = v && st ? safeRegs(v, e.regs) : [];
    const src = sourceLineOf(input, e.insn);
    const error = new VerifierError(e.errno, {
      kernelMessage: e.kernelMessage,
      rule: e.rule ?? e.kernelMessage,
      insnIndex: e.insn,
      ...(insnText !== undefined ? { insnText } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      registers,
      path,
      ...(src ? { sourceLine: src } : {}),
      log,
    });
    return { ok: false, log, error, aux: v?.aux ?? [], stats };
  }
}

function safeRegs(v: Verifier, regs: number[]): string[] {
  try {
    return v.regDescriptions(regs);
  } catch {
    return [];
  }
}

function statsLine(s: VerifierStats): string {
  return `processed ${s.processedInsns} insns (limit 1000000) max_states_per_insn ${s.maxStatesPerInsn} total_states ${s.totalStates} peak_states ${s.peakStates} mark_read 0`;
}

function emptyStats(timeUs: number): VerifierStats {
  return { processedInsns: 0, peakStates: 0, totalStates: 0, maxStatesPerInsn: 0, stackDepth: [0], maxStackDepth: 0, maxCtxOffset: 0, timeUs };
}
