/**
 * The kernel verifier-log / LLVM dialect: statements like `r0 = *(u32 *)(r1 +4)`,
 * `w1 += w2`, `if r1 s> 0x5 goto pc+3`, `lock *(u64 *)(r1 +0) += r2`,
 * `r1 = 0x1122334455667788 ll`. Accepts both the kernel's spelling (decimal
 * immediates, `(r1 +4)`, `goto pc+3`, `call bpf_map_lookup_elem#1`) and LLVM's
 * (hex immediates, `(r1 + 0x4)`, `goto +0x3`, `call 0x1`, `xchg_64(r1 + 0x0, r2)`),
 * and labels as jump targets. `w` registers select the 32-bit classes.
 */
import * as op from '../opcodes.js';
import { lddw } from '../insn.js';
import { helperId as defaultHelperId } from '../../uapi/helper-ids.js';
import { Builder, imm32, imm64, insn, off16, parseBig, parseTarget, LABEL_RE } from './source.js';

export interface KernelAsmOptions {
  /** Helper id by name, for `call NAME` / `call NAME#ID`; default: the kernel's table. */
  helperId?: (name: string) => number | undefined;
  /** Names that `call NAME#ID` should encode as a kfunc call (src 2); `kernel-function` always is. */
  kfuncs?: ReadonlySet<string>;
}

const NUM = '[+-]?(?:0x[0-9a-f]+|\\d+)';
const REG = '([rw])(\\d+)';
/** `(r1 +4)`, `(r1 + 0x4)`, `(r1 -8)`; inner part also used bare by LLVM's xchg_64(r1 + 0x0, ...). */
const MEM_IN = `r(\\d+)\\s*([+-])\\s*(0x[0-9a-f]+|\\d+)`;
const MEM = `\\(\\s*${MEM_IN}\\s*\\)`;
const SIZE_OF: Record<string, number> = { u8: op.BPF_B, u16: op.BPF_H, u32: op.BPF_W, u64: op.BPF_DW };
const SX_SIZE_OF: Record<string, number> = { s8: op.BPF_B, s16: op.BPF_H, s32: op.BPF_W };
const ALU_OF: Record<string, [number, number]> = {
  '=': [op.BPF_MOV, 0], '+=': [op.BPF_ADD, 0], '-=': [op.BPF_SUB, 0], '*=': [op.BPF_MUL, 0],
  '/=': [op.BPF_DIV, 0], '|=': [op.BPF_OR, 0], '&=': [op.BPF_AND, 0], '<<=': [op.BPF_LSH, 0],
  '>>=': [op.BPF_RSH, 0], '%=': [op.BPF_MOD, 0], '^=': [op.BPF_XOR, 0], 's>>=': [op.BPF_ARSH, 0],
  's/=': [op.BPF_DIV, 1], 's%=': [op.BPF_MOD, 1],
};
const JMP_OF: Record<string, number> = {
  '==': op.BPF_JEQ, '>': op.BPF_JGT, '>=': op.BPF_JGE, '&': op.BPF_JSET, '!=': op.BPF_JNE,
  's>': op.BPF_JSGT, 's>=': op.BPF_JSGE, '<': op.BPF_JLT, '<=': op.BPF_JLE, 's<': op.BPF_JSLT, 's<=': op.BPF_JSLE,
};
const ATOMIC_OF: Record<string, number> = { add: op.BPF_ADD, and: op.BPF_AND, or: op.BPF_OR, xor: op.BPF_XOR };
const LOCK_OF: Record<string, number> = { '+=': op.BPF_ADD, '&=': op.BPF_AND, '|=': op.BPF_OR, '^=': op.BPF_XOR };

const BPF_JCOND = 0xe0;
const BPF_NOSPEC = 0xc0;

function re(src: string): RegExp {
  return new RegExp(`^${src}$`, 'i');
}

const R = {
  goto: re(`(goto|gotol|may_goto)\\s+(\\S+)`),
  cond: re(`if\\s+${REG}\\s+(==|!=|>=|<=|>|<|s>=|s<=|s>|s<|&)\\s+(\\S+)\\s+goto\\s+(\\S+)`),
  callx: re(`callx\\s+${REG}`),
  call: re(`call\\s+(\\S+)`),
  lock: re(`lock\\s+\\*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*${MEM}\\s*(\\+=|&=|\\|=|\\^=)\\s*${REG}`),
  storeRel: re(`store_release\\(\\s*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`),
  store: re(`\\*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*${MEM}\\s*=\\s*(\\S+)`),
  assign: re(`${REG}\\s*(=|\\+=|-=|\\*=|/=|\\|=|&=|<<=|>>=|%=|\\^=|s>>=|s/=|s%=)\\s*(.+)`),
};
const RHS = {
  fetch: re(`atomic(64)?_fetch_(add|and|or|xor)\\(\\s*\\((u32|u64)\\s*\\*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`),
  xchg: re(`atomic(64)?_xchg\\(\\s*\\((u32|u64)\\s*\\*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`),
  cmpxchg: re(`atomic(64)?_cmpxchg\\(\\s*\\((u32|u64)\\s*\\*\\)\\s*${MEM}\\s*,\\s*[rw]0\\s*,\\s*${REG}\\s*\\)`),
  llXchg: re(`(xchg_64|xchg32_32)\\(\\s*${MEM_IN}\\s*,\\s*${REG}\\s*\\)`),
  llCmpxchg: re(`(cmpxchg_64|cmpxchg32_32)\\(\\s*${MEM_IN}\\s*,\\s*[rw]0\\s*,\\s*${REG}\\s*\\)`),
  loadAcq: re(`load_acquire\\(\\s*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*${MEM}\\s*\\)`),
  load: re(`\\*\\((u8|u16|u32|u64|s8|s16|s32)\\s*\\*\\)\\s*${MEM}`),
  skbAbs: re(`\\*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*skb\\[\\s*(${NUM})\\s*\\]`),
  // The kernel prints `skb[r2 + %d]`, so a negative immediate reads `skb[r2 + -4]`.
  skbInd: re(`\\*\\((u8|u16|u32|u64)\\s*\\*\\)\\s*skb\\[\\s*${REG}\\s*(?:([+-])\\s*(${NUM})\\s*)?\\]`),
  neg: re(`-\\s*${REG}`),
  end: re(`(be|le|bswap)(16|32|64)\\s+${REG}`),
  movsx: re(`\\((s8|s16|s32)\\)\\s*${REG}`),
  asCast: re(`addr_space_cast\\(\\s*${REG}\\s*,\\s*(${NUM})\\s*,\\s*(${NUM})\\s*\\)`),
  percpu: re(`&\\(void __percpu \\*\\)\\(\\s*${REG}\\s*\\)`),
  map: re(`map\\[(fd|idx):(-?\\d+)\\](?:\\[0\\]\\+(\\d+))?(?:\\s+ll)?`),
  btfId: re(`btf_id\\[(-?\\d+)\\](?:\\s+ll)?`),
  func: re(`func\\[(?:pc)?([+-]\\d+|\\S+)\\](?:\\s+ll)?`),
  ll: re(`(${NUM})\\s+ll`),
  reg: re(REG),
  num: re(NUM),
};

function regNum(b: Builder, n: string): number {
  const r = Number(n);
  if (r > op.MAX_REG) b.fail(`no register r${r}`);
  return r;
}

function memOff(b: Builder, sign: string, v: string): number {
  return off16(b, `${sign}${v}`);
}

/** Assemble one statement (comments, labels and listing prefixes already removed). */
export function kernelLine(b: Builder, line: string, opts: KernelAsmOptions): void {
  const s = line.replace(/\s+/g, ' ').trim();
  let m: RegExpExecArray | null;
  // Dispatch on the first character so each line meets only the patterns that can match.
  const c0 = s[0]?.toLowerCase();
  if (c0 === 'e' && /^exit$/i.test(s)) return b.emit(insn(op.OP_EXIT));
  if (c0 === 'n' && /^nospec$/i.test(s)) return b.emit(insn(op.BPF_ST | BPF_NOSPEC));
  if ((c0 === 'g' || c0 === 'm') && (m = R.goto.exec(s))) {
    const kind = m[1]!.toLowerCase();
    const t = parseTarget(b, m[2]!);
    if (kind === 'gotol') return b.emit(insn(op.OP_JA32), 'imm', t);
    return b.emit(insn(kind === 'goto' ? op.OP_JA : op.BPF_JMP | BPF_JCOND), 'off', t);
  }
  if (c0 === 'i' && (m = R.cond.exec(s))) {
    const cls = m[1]!.toLowerCase() === 'w' ? op.BPF_JMP32 : op.BPF_JMP;
    const dst = regNum(b, m[2]!);
    const o = JMP_OF[m[3]!.toLowerCase()]!;
    const t = parseTarget(b, m[5]!);
    const rhs = RHS.reg.exec(m[4]!);
    if (rhs) {
      if (rhs[1]!.toLowerCase() !== m[1]!.toLowerCase()) b.fail('both operands of a comparison must be r or both w');
      return b.emit(insn(cls | o | op.BPF_X, dst, regNum(b, rhs[2]!)), 'off', t);
    }
    // The kernel prints the immediate as 0x%x (unsigned), LLVM as signed hex: accept both.
    return b.emit(insn(cls | o | op.BPF_K, dst, 0, 0, imm32(b, m[4]!)), 'off', t);
  }
  if (c0 === 'c' && (m = R.callx.exec(s))) return b.emit(insn(op.OP_CALLX, regNum(b, m[2]!)));
  if (c0 === 'c' && (m = R.call.exec(s))) return call(b, m[1]!, opts);
  if (c0 === 'l' && (m = R.lock.exec(s))) {
    const size = SIZE_OF[m[1]!.toLowerCase()]!;
    if (size !== op.BPF_W && size !== op.BPF_DW) b.fail('atomic operations are 32 or 64 bits wide');
    const code = op.BPF_STX | op.BPF_ATOMIC | size;
    return b.emit(insn(code, regNum(b, m[2]!), regNum(b, m[7]!), memOff(b, m[3]!, m[4]!), LOCK_OF[m[5]!]!));
  }
  if (c0 === 's' && (m = R.storeRel.exec(s))) {
    const code = op.BPF_STX | op.BPF_ATOMIC | SIZE_OF[m[1]!.toLowerCase()]!;
    return b.emit(insn(code, regNum(b, m[2]!), regNum(b, m[6]!), memOff(b, m[3]!, m[4]!), op.BPF_STORE_REL));
  }
  if (c0 === '*' && (m = R.store.exec(s))) {
    const size = SIZE_OF[m[1]!.toLowerCase()]!;
    const dst = regNum(b, m[2]!);
    const off = memOff(b, m[3]!, m[4]!);
    const r = RHS.reg.exec(m[5]!);
    if (r) return b.emit(insn(op.BPF_STX | op.BPF_MEM | size, dst, regNum(b, r[2]!), off));
    return b.emit(insn(op.BPF_ST | op.BPF_MEM | size, dst, 0, off, imm32(b, m[5]!)));
  }
  if ((m = R.assign.exec(s))) return assign(b, m[1]!.toLowerCase() === 'w', regNum(b, m[2]!), m[3]!, m[4]!.trim());
  b.fail('unrecognized instruction');
}

/** `call pc+N`, `call NAME#ID`, `call ID`, `call NAME` (helper, else a bpf-to-bpf call to label NAME). */
function call(b: Builder, arg: string, opts: KernelAsmOptions): void {
  let m: RegExpExecArray | null;
  if ((m = /^pc([+-]\d+)$/i.exec(arg))) return b.emit(insn(op.OP_CALL, 0, op.BPF_PSEUDO_CALL), 'imm', { rel: Number(m[1]) });
  if ((m = /^([\w.$-]+)#([+-]?\d+)$/.exec(arg))) {
    const name = m[1]!;
    const id = imm32(b, m[2]!, false);
    const kfunc = name === 'kernel-function' || (opts.kfuncs?.has(name) ?? false);
    return b.emit(insn(op.OP_CALL, 0, kfunc ? op.BPF_PSEUDO_KFUNC_CALL : op.BPF_PSEUDO_HELPER, 0, id));
  }
  if (parseBig(arg) !== undefined) return b.emit(insn(op.OP_CALL, 0, op.BPF_PSEUDO_HELPER, 0, imm32(b, arg, false)));
  const id = opts.helperId?.(arg) ?? defaultHelperId(arg);
  if (id !== undefined) return b.emit(insn(op.OP_CALL, 0, op.BPF_PSEUDO_HELPER, 0, id));
  if (LABEL_RE.test(arg)) return b.emit(insn(op.OP_CALL, 0, op.BPF_PSEUDO_CALL), 'imm', { label: arg });
  b.fail(`bad call target '${arg}'`);
}

function assign(b: Builder, w: boolean, dst: number, opStr: string, rhs: string): void {
  const cls = w ? op.BPF_ALU : op.BPF_ALU64;
  const [o, signed] = ALU_OF[opStr.toLowerCase()]!;
  let m: RegExpExecArray | null;
  const checkW = (reg: string, what: string): void => {
    if ((reg.toLowerCase() === 'w') !== w) b.fail(`${what} must use the same register width (r or w) as the destination`);
  };
  if (opStr === '=') {
    // Loads, atomics with a result, lddw and unary forms: all `dst = <expr>`.
    const c = rhs[0]?.toLowerCase();
    if (c === '*' && (m = RHS.load.exec(rhs))) {
      const t = m[1]!.toLowerCase();
      const signExtending = t.startsWith('s');
      const code = op.BPF_LDX | (signExtending ? op.BPF_MEMSX : op.BPF_MEM) | (signExtending ? SX_SIZE_OF[t]! : SIZE_OF[t]!);
      return b.emit(insn(code, dst, regNum(b, m[2]!), memOff(b, m[3]!, m[4]!)));
    }
    if (c === 'a' && (m = RHS.fetch.exec(rhs))) {
      const size = SIZE_OF[m[3]!.toLowerCase()]!;
      const src = regNum(b, m[8]!);
      if (src !== dst) b.fail('atomic fetch writes the old value back to its source register');
      const imm = ATOMIC_OF[m[2]!.toLowerCase()]! | op.BPF_FETCH;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, regNum(b, m[4]!), src, memOff(b, m[5]!, m[6]!), imm));
    }
    if (c === 'a' && (m = RHS.xchg.exec(rhs))) {
      const src = regNum(b, m[7]!);
      if (src !== dst) b.fail('xchg writes the old value back to its source register');
      const size = SIZE_OF[m[2]!.toLowerCase()]!;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, regNum(b, m[3]!), src, memOff(b, m[4]!, m[5]!), op.BPF_XCHG));
    }
    if (c === 'a' && (m = RHS.cmpxchg.exec(rhs))) {
      if (dst !== 0) b.fail('cmpxchg returns the old value in r0');
      const size = SIZE_OF[m[2]!.toLowerCase()]!;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, regNum(b, m[3]!), regNum(b, m[7]!), memOff(b, m[4]!, m[5]!), op.BPF_CMPXCHG));
    }
    if (c === 'x' && (m = RHS.llXchg.exec(rhs))) {
      const src = regNum(b, m[6]!);
      if (src !== dst) b.fail('xchg writes the old value back to its source register');
      const size = m[1]!.toLowerCase() === 'xchg_64' ? op.BPF_DW : op.BPF_W;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, regNum(b, m[2]!), src, memOff(b, m[3]!, m[4]!), op.BPF_XCHG));
    }
    if (c === 'c' && (m = RHS.llCmpxchg.exec(rhs))) {
      if (dst !== 0) b.fail('cmpxchg returns the old value in r0');
      const size = m[1]!.toLowerCase() === 'cmpxchg_64' ? op.BPF_DW : op.BPF_W;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, regNum(b, m[2]!), regNum(b, m[6]!), memOff(b, m[3]!, m[4]!), op.BPF_CMPXCHG));
    }
    if (c === 'l' && (m = RHS.loadAcq.exec(rhs))) {
      const size = SIZE_OF[m[1]!.toLowerCase()]!;
      return b.emit(insn(op.BPF_STX | op.BPF_ATOMIC | size, dst, regNum(b, m[2]!), memOff(b, m[3]!, m[4]!), op.BPF_LOAD_ACQ));
    }
    if (c === '*' && ((m = RHS.skbAbs.exec(rhs)) || (m = RHS.skbInd.exec(rhs)))) {
      if (dst !== 0 || w) b.fail('legacy packet loads write r0');
      const size = SIZE_OF[m[1]!.toLowerCase()]!;
      if (size === op.BPF_DW) b.fail('legacy packet loads are 8, 16 or 32 bits wide');
      if (m.length === 3) return b.emit(insn(op.BPF_LD | op.BPF_ABS | size, 0, 0, 0, imm32(b, m[2]!)));
      let imm = 0;
      if (m[4]) {
        const v = parseBig(m[5]!)!;
        imm = imm32(b, String(m[4] === '-' ? -v : v));
      }
      return b.emit(insn(op.BPF_LD | op.BPF_IND | size, 0, regNum(b, m[3]!), 0, imm));
    }
    if (c === '-' && (m = RHS.neg.exec(rhs))) {
      checkW(m[1]!, 'neg');
      if (regNum(b, m[2]!) !== dst) b.fail('neg negates its destination register');
      return b.emit(insn(cls | op.BPF_NEG, dst));
    }
    if ((c === 'b' || c === 'l') && (m = RHS.end.exec(rhs))) {
      if (w) b.fail('byte swaps write a 64-bit register: use r');
      if (regNum(b, m[4]!) !== dst) b.fail('byte swaps operate on their destination register');
      const kind = m[1]!.toLowerCase();
      const code = kind === 'bswap' ? op.BPF_ALU64 | op.BPF_END
        : op.BPF_ALU | op.BPF_END | (kind === 'be' ? op.BPF_TO_BE : op.BPF_TO_LE);
      return b.emit(insn(code, dst, 0, 0, Number(m[2])));
    }
    if (c === '(' && (m = RHS.movsx.exec(rhs))) {
      checkW(m[2]!, 'movsx');
      const bits = Number(m[1]!.slice(1));
      if (w && bits === 32) b.fail('(s32) sign extension needs a 64-bit destination');
      return b.emit(insn(cls | op.BPF_MOV | op.BPF_X, dst, regNum(b, m[3]!), bits));
    }
    if (c === 'a' && (m = RHS.asCast.exec(rhs))) {
      const hi = Number(parseBig(m[3]!));
      const lo = Number(parseBig(m[4]!));
      if (hi < 0 || hi > 0xffff || lo < 0 || lo > 0xffff) b.fail('address spaces are 16-bit numbers');
      return b.emit(insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, dst, regNum(b, m[2]!), 1, (hi << 16) | lo));
    }
    if (c === '&' && (m = RHS.percpu.exec(rhs))) return b.emit(insn(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, dst, regNum(b, m[2]!), -1));
    // 64-bit immediates and the pseudo sources of lddw (RFC 9669 5.4).
    if ((m = RHS.ll.exec(rhs))) return emitLddw(b, w, dst, imm64(b, m[1]!), 0);
    if (c === 'm' && (m = RHS.map.exec(rhs))) {
      const idx = m[1]!.toLowerCase() === 'idx';
      const lo = imm32(b, m[2]!);
      if (m[3] === undefined) return emitLddw(b, w, dst, BigInt(lo >>> 0), idx ? op.BPF_PSEUDO_MAP_IDX : op.BPF_PSEUDO_MAP_FD);
      const hi = BigInt(imm32(b, m[3]) >>> 0);
      return emitLddw(b, w, dst, (hi << 32n) | BigInt(lo >>> 0), idx ? op.BPF_PSEUDO_MAP_IDX_VALUE : op.BPF_PSEUDO_MAP_VALUE);
    }
    if (c === 'b' && (m = RHS.btfId.exec(rhs))) return emitLddw(b, w, dst, BigInt(imm32(b, m[1]!) >>> 0), op.BPF_PSEUDO_BTF_ID);
    if (c === 'f' && (m = RHS.func.exec(rhs))) {
      if (w) b.fail('lddw writes a 64-bit register: use r');
      const [lo, hi] = lddw(dst, 0n, op.BPF_PSEUDO_FUNC);
      b.emit(lo, 'imm', parseTarget(b, m[1]!));
      return b.emit(hi);
    }
  }
  if ((m = RHS.reg.exec(rhs))) {
    checkW(m[1]!, 'the source');
    return b.emit(insn(cls | o | op.BPF_X, dst, regNum(b, m[2]!), signed));
  }
  if (RHS.num.test(rhs)) {
    // The kernel prints ALU immediates as %d, LLVM as signed hex: a 64-bit
    // operation sign-extends its immediate, so 0x80000000..0xffffffff would
    // silently mean a negative number there; only 32-bit ones accept them.
    // The kernel prints lddw as `rN = 0x...` (no `ll`): a value that no
    // sign-extended imm32 can hold is read as that 64-bit load.
    const v = parseBig(rhs)!;
    if (!w && opStr === '=' && (v > 0x7fffffffn || v < -0x80000000n)) return emitLddw(b, w, dst, imm64(b, rhs), 0);
    if (!w && (v > 0x7fffffffn || v < -0x80000000n))
      b.fail(`immediate ${rhs} does not fit in a sign-extended 32-bit field`);
    return b.emit(insn(cls | o | op.BPF_K, dst, 0, signed, imm32(b, rhs, w)));
  }
  b.fail('unrecognized instruction');
}

function emitLddw(b: Builder, w: boolean, dst: number, v: bigint, src: number): void {
  if (w) b.fail('lddw writes a 64-bit register: use r');
  const [lo, hi] = lddw(dst, v, src);
  b.emit(lo);
  b.emit(hi);
}
