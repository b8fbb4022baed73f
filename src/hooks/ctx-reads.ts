/**
 * Which bytes of its context a program can read: a conservative scan of the
 * instructions, so that a hook fills only the context fields some attached
 * program reads (writing all 21 words of a struct pt_regs on every probe hit
 * is most of what a trivial probe costs).
 *
 * The scan follows the context pointer from r1 at entry through copies
 * (`rX = r1`) and constant offsets (`rX += K`, `rX -= K`), as the kernel's
 * verifier tracks PTR_TO_CTX with a fixed offset (check_ctx_access refuses
 * any variable offset). A load from such a register at a constant offset
 * reads those bytes. Anything it cannot follow gives "every byte": the
 * pointer stored to memory (a spill), handed to a bpf-to-bpf call or to a
 * helper not listed in `helperReads` (in an argument register the helper's
 * prototype takes), any other arithmetic on it, an atomic
 * or legacy packet access, an unknown opcode, or the same register holding
 * the context at two different offsets where paths meet and then being used.
 * The answer is therefore only ever too large, never too small — for
 * programs that passed the verifier; callers use it only for those (an
 * unverified program could reach the context through a forged address).
 */
import { calleeStart, isPseudoCall, isPseudoFunc, jumpTarget } from '../isa/control-flow.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';

/** The context word mask meaning "could read any byte". */
export const ALL_WORDS = -1;

/**
 * What a helper reads of a context pointer passed to it: byte ranges
 * `[offset, size]` relative to that pointer, or an empty list for helpers
 * that take the context only to identify the event (perf_event_output,
 * get_stackid, get_stack) and read none of its bytes.
 */
export type HelperCtxReads = ReadonlyMap<number, ReadonlyArray<readonly [number, number]>>;

/** Abstract register: NOT holds no context pointer; a number is ctx + that offset; TOP is unknown. */
const NOT = undefined;
const TOP = Infinity;
type Val = number | undefined;

/**
 * The 8-byte words of the context (bit i = bytes 8i..8i+7) that `insns` can
 * read, for a context of at most 31 words; {@link ALL_WORDS} when the scan
 * cannot tell.
 */
export function ctxWordsRead(
  insns: readonly Insn[],
  ctxSize: number,
  helperReads: HelperCtxReads = new Map(),
  /** how many of r1..r5 helper `id` takes (its prototype); undefined: all five */
  helperArgs: (id: number) => number | undefined = () => undefined,
): number {
  const words = Math.ceil(ctxSize / 8);
  if (words > 31) return ALL_WORDS;
  let mask = 0;
  let all = false;
  const mark = (off: number, size: number): void => {
    if (off < 0 || off + size > ctxSize) {
      // Outside the struct: the verifier refuses it; be safe anyway.
      all = true;
      return;
    }
    for (let w = off >> 3; w <= (off + size - 1) >> 3; w++) mask |= 1 << w;
  };

  const n = insns.length;
  // The register state on entry to each slot (undefined: not reached yet).
  const states: Array<Val[] | undefined> = new Array(n);
  const work: number[] = [];
  const enter = (pc: number, regs: Val[]): void => {
    if (pc < 0 || pc >= n) {
      all = true;
      return;
    }
    const old = states[pc];
    if (!old) {
      states[pc] = regs.slice();
      work.push(pc);
      return;
    }
    let changed = false;
    for (let r = 0; r < 11; r++) {
      if (old[r] !== regs[r] && old[r] !== TOP) {
        old[r] = TOP;
        changed = true;
      }
    }
    if (changed) work.push(pc);
  };
  const start: Val[] = new Array(11).fill(NOT);
  start[1] = 0;
  enter(0, start);
  // Subprograms and callbacks start with no context pointer (one passed in is refused below).
  const none: Val[] = new Array(11).fill(NOT);
  for (let i = 0; i < n; i++) {
    const ins = insns[i]!;
    if (isPseudoCall(ins) || isPseudoFunc(ins)) enter(calleeStart(ins, i), none);
    if (ins.code === op.OP_LDDW) i++;
  }

  const isCtx = (v: Val): boolean => v !== NOT;
  while (work.length > 0 && !all) {
    const pc = work.pop()!;
    const regs = states[pc]!.slice();
    const ins = insns[pc]!;
    const cls = ins.code & 7;
    const mode = ins.code & 0xe0;
    if (ins.dst > 10 || ins.src > 10) {
      all = true;
      break;
    }
    switch (cls) {
      case op.BPF_LD:
        if (ins.code === op.OP_LDDW) {
          regs[ins.dst] = NOT;
          enter(pc + 2, regs);
        } else all = true; // LD_ABS / LD_IND read through the implicit context in r6
        break;
      case op.BPF_LDX: {
        const base = regs[ins.src];
        if (base === TOP) all = true;
        else if (base !== NOT) {
          if (mode !== op.BPF_MEM && mode !== op.BPF_MEMSX) all = true;
          else mark(base + ins.off, op.sizeBytes(op.sizeOf(ins.code)));
        }
        regs[ins.dst] = NOT;
        enter(pc + 1, regs);
        break;
      }
      case op.BPF_ST:
      case op.BPF_STX: {
        // Storing a context pointer lets it escape (a spill); atomics on the context could read it.
        if (cls === op.BPF_STX && isCtx(regs[ins.src])) all = true;
        if (mode === op.BPF_ATOMIC && isCtx(regs[ins.dst])) all = true;
        if (mode === op.BPF_ATOMIC) {
          // The registers an atomic writes: r0 (cmpxchg), src (other fetches), dst (load-acquire).
          if (ins.imm === op.BPF_CMPXCHG) regs[0] = NOT;
          else if (ins.imm === op.BPF_LOAD_ACQ) regs[ins.dst] = NOT;
          else if (ins.imm & op.BPF_FETCH) regs[ins.src] = NOT;
        }
        enter(pc + 1, regs);
        break;
      }
      case op.BPF_ALU:
      case op.BPF_ALU64: {
        const o = ins.code & 0xf0;
        const x = (ins.code & op.BPF_X) !== 0;
        const d = regs[ins.dst];
        if (x && o !== op.BPF_END && isCtx(regs[ins.src]) && !(cls === op.BPF_ALU64 && o === op.BPF_MOV && ins.off === 0)) {
          all = true;
          break;
        }
        if (cls === op.BPF_ALU64 && o === op.BPF_MOV && x && ins.off === 0) regs[ins.dst] = regs[ins.src];
        else if (isCtx(d)) {
          if (cls === op.BPF_ALU64 && !x && d !== TOP && (o === op.BPF_ADD || o === op.BPF_SUB)) regs[ins.dst] = o === op.BPF_ADD ? d! + ins.imm : d! - ins.imm;
          else if (o === op.BPF_MOV) regs[ins.dst] = NOT;
          else {
            all = true;
            break;
          }
        } else regs[ins.dst] = NOT;
        enter(pc + 1, regs);
        break;
      }
      case op.BPF_JMP:
      case op.BPF_JMP32: {
        const o = ins.code & 0xf0;
        if (ins.code === op.OP_EXIT) break;
        if (ins.code === op.OP_CALL) {
          if (ins.src === op.BPF_PSEUDO_HELPER) {
            const reads = helperReads.get(ins.imm);
            // A register the helper does not take is not passed to it (r1 often still holds the context).
            const nargs = Math.min(5, helperArgs(ins.imm) ?? 5);
            for (let r = 1; r <= nargs; r++) {
              const v = regs[r];
              if (!isCtx(v)) continue;
              if (!reads || v === TOP) all = true;
              else for (const [off, size] of reads) mark(v! + off, size);
            }
          } else {
            // A bpf-to-bpf call taking the context, or a kfunc: not followed.
            for (let r = 1; r <= 5; r++) if (isCtx(regs[r])) all = true;
            if (ins.src !== op.BPF_PSEUDO_CALL) all = true;
          }
          for (let r = 0; r <= 5; r++) regs[r] = NOT;
          enter(pc + 1, regs);
          break;
        }
        if (ins.code === op.OP_CALLX) {
          all = true;
          break;
        }
        if (o === op.BPF_JA) {
          enter(jumpTarget(ins, pc), regs);
          break;
        }
        if (o === op.BPF_JCOND) {
          enter(pc + 1, regs);
          enter(jumpTarget(ins, pc), regs);
          break;
        }
        if (o > op.BPF_JSLE) {
          all = true;
          break;
        }
        enter(pc + 1, regs);
        enter(jumpTarget(ins, pc), regs);
        break;
      }
      default:
        all = true;
    }
  }
  return all ? ALL_WORDS : mask;
}
