/**
 * Reads the verifier's log (log level 2, the kernel's format: see
 * src/verifier/log.ts and the kernel's print_verifier_state) back into the
 * register and stack state at each instruction, for every time the
 * verifier walked it. Lines it reads:
 *
 *   `N: (op) insn  ; R1=... fp-8=...`   the instruction and what it changed
 *   `N: R1=ctx() R10=fp0`               the whole state where a path starts
 *   `from A to B: R0=...`               the state at a branch target
 *   ` frame1: R1=...`                   a callee's frame (after `callee:`)
 *
 * A state is a set of `name=value` tokens (values may hold spaces inside
 * parentheses, as `var_off=(0x0; 0xff)`).
 */

export interface StateView {
  /** the frame these registers belong to (0: main program, +1 per bpf-to-bpf call) */
  frame: number;
  /** R0..R10 that the verifier knows, in register order */
  regs: Array<[string, string]>;
  /** stack slots (`fp-8`, ...), nearest the frame pointer first */
  stack: Array<[string, string]>;
}

export interface InsnVisit {
  before: StateView;
  after: StateView;
}

/** Split `R1=a(b, c) R2=d` at spaces outside parentheses. */
export function stateTokens(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let depth = 0;
  let cur = '';
  const flush = (): void => {
    const t = cur.trim();
    cur = '';
    if (!t) return;
    const eq = t.indexOf('=');
    if (eq > 0) out.push([t.slice(0, eq), t.slice(eq + 1)]);
  };
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ' ' && depth === 0) flush();
    else cur += ch;
  }
  flush();
  return out;
}

const INSN = /^(\d+): \(([0-9a-f]{2})\) (.*?)(?:\s+; (.*))?$/;
const FULL = /^(\d+): ((?:frame\d+: )?[R]\d.*)$/;
const FROM = /^from (\d+) to (\d+): (.*)$/;
const FRAME_LINE = /^ (?:frame(\d+): )?(R\d.*)$/;

function view(frame: number, m: Map<string, string>): StateView {
  const regs: Array<[string, string]> = [];
  const stack: Array<[string, string]> = [];
  for (const [k, v] of m) (k.startsWith('R') ? regs : stack).push([k, v]);
  regs.sort((a, b) => Number(a[0].slice(1)) - Number(b[0].slice(1)));
  stack.sort((a, b) => Number(/-?\d+/.exec(a[0])?.[0] ?? 0) < Number(/-?\d+/.exec(b[0])?.[0] ?? 0) ? 1 : -1);
  return { frame, regs, stack };
}

/** Strip a leading `frameN: ` and say which frame. */
function framed(text: string, dflt: number): { frame: number; rest: string } {
  const m = /^frame(\d+): (.*)$/.exec(text.trim());
  return m ? { frame: Number(m[1]), rest: m[2]! } : { frame: dflt, rest: text };
}

/** Per instruction index, every visit the log records, in log order. */
export function parseVerifierLog(log: string): Map<number, InsnVisit[]> {
  const visits = new Map<number, InsnVisit[]>();
  const frames: Array<Map<string, string>> = [new Map()];
  let frame = 0;
  const setFull = (f: number, text: string): void => {
    frames[f] = new Map(stateTokens(text));
    frame = f;
  };
  for (const line of log.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = INSN.exec(line))) {
      const idx = Number(m[1]);
      const cur = frames[frame] ?? new Map<string, string>();
      const before = view(frame, cur);
      const after = new Map(cur);
      // A helper call clobbers R1-R5 (the caller-saved registers, check_helper_call).
      if (/^call /.test(m[3]!) && !/^call pc/.test(m[3]!)) for (let r = 1; r <= 5; r++) after.delete(`R${r}`);
      if (m[4]) {
        const d = framed(m[4], frame);
        for (const [k, v] of stateTokens(d.rest)) after.set(k, v);
      }
      frames[frame] = after;
      const list = visits.get(idx) ?? [];
      list.push({ before, after: view(frame, after) });
      visits.set(idx, list);
    } else if ((m = FULL.exec(line))) {
      const d = framed(m[2]!, 0);
      setFull(d.frame, d.rest);
    } else if ((m = FROM.exec(line))) {
      if (m[3] === 'safe') continue;
      const d = framed(m[3]!, frame);
      setFull(d.frame, d.rest);
    } else if ((m = FRAME_LINE.exec(line))) {
      setFull(m[1] ? Number(m[1]) : 0, m[2]!);
    }
  }
  return visits;
}

/** The instruction indexes of a rejection's path (`5: if r3 > r2 goto pc+4 -> not taken, to insn 6`), in order. */
export function pathInsns(path: readonly string[]): number[] {
  return path.flatMap((p) => {
    const m = /^(\d+):/.exec(p.trim());
    return m ? [Number(m[1])] : [];
  });
}
