/**
 * The disassembler: instruction slots to text, in two dialects.
 *
 * 'kernel' prints what the Linux verifier log and `bpftool prog dump xlated`
 * print (kernel/bpf/disasm.c, print_bpf_insn): `r0 = *(u32 *)(r1 +4)`,
 * `w1 += w2`, `if r1 s> 0x5 goto pc+3`, `call bpf_map_lookup_elem#1`. Decimal
 * immediates in ALU and store instructions, `0x%x` immediates in conditional
 * jumps, `%+d` offsets. Where the kernel has no syntax we add one that the
 * assembler reads back: `callx r2` (LLVM's), ` ll` after a plain 64-bit
 * immediate (LLVM's; the kernel omits it, `ll: false` does too), the pseudo
 * lddw forms `map[fd:N]`, `map[fd:N][0]+OFF`, `map[idx:N]`, `map[idx:N][0]+OFF`,
 * `btf_id[N]`, `func[pc+N]`, and `.raw 0xWORD` for any slot that is not a
 * valid instruction, so that every byte pattern survives a round trip.
 *
 * 'llvm' prints what `llvm-objdump-19 -d` prints for the instruction (hex
 * immediates, `(r1 + 0x4)`, `goto +0x3`, `call 0x1`), without the address,
 * byte columns and `<symbol>` notes around it. With `alu32: true` it follows
 * `llvm-objdump --mcpu=v3` and later, which names 32-bit store and atomic
 * operands `w`. LLVM's syntax is lossy (it prints a bpf-to-bpf call like a
 * helper call, and an LD_IND without its immediate); round trips go through
 * the kernel dialect.
 */
import { calleeStart, isJump, isPseudoCall, isPseudoFunc, jumpTarget } from './control-flow.js';
import { InstructionError } from '../errors.js';
import type { Insn } from './insn.js';
import * as op from './opcodes.js';
import { validateInsn } from './validate.js';
import { helperName as defaultHelperName } from '../uapi/helper-ids.js';

export type DisasmDialect = 'kernel' | 'llvm';

export interface DisasmOptions {
  dialect?: DisasmDialect;
  /** Helper name by id (kernel dialect); falls back to the kernel's table, then `unknown`. */
  helperName?: (id: number) => string | undefined;
  /** Name of a kfunc call (src 2), like the verifier's cb_call; default `kernel-function`. */
  kfuncName?: (insn: Insn) => string | undefined;
  /**
   * Text for the value of the lddw at `i`, like the kernel's cb_imm (bpftool
   * prints `map[id:3]`); return undefined for the default. Such text need not
   * re-assemble.
   */
  imm64?: (insns: readonly Insn[], i: number) => string | undefined;
  /** Kernel dialect: print ` ll` after a plain 64-bit immediate (default true). */
  ll?: boolean;
  /** LLVM dialect: print as llvm-objdump does with the alu32 feature (--mcpu=v3 or v4). */
  alu32?: boolean;
  /**
   * Kernel dialect: the label of slot `index`, if it has one; jumps and calls
   * to it print the label instead of `pc+N` ({@link disassemble}'s `labels`).
   */
  labelOf?: (index: number) => string | undefined;
}

export interface ListingOptions extends DisasmOptions {
  /** Prefix each line with `N: ` (the slot index, right-aligned to 4 columns). */
  lineNumbers?: boolean;
  /** Prefix each instruction with its opcode byte `(b7) `, as bpftool does. */
  opcodes?: boolean;
  /**
   * Kernel dialect: name every jump and call target `L<slot>` and print a
   * `L<slot>:` line before it, instead of `pc+N` offsets. Easier to read;
   * assembles to the same bytes.
   */
  labels?: boolean;
}

const SIZE_NAME: Record<number, string> = { [op.BPF_W]: 'u32', [op.BPF_H]: 'u16', [op.BPF_B]: 'u8', [op.BPF_DW]: 'u64' };
const SIZE_SX: Record<number, string> = { [op.BPF_W]: 's32', [op.BPF_H]: 's16', [op.BPF_B]: 's8' };
const ALU_OP: Record<number, string> = {
  [op.BPF_ADD]: '+=', [op.BPF_SUB]: '-=', [op.BPF_MUL]: '*=', [op.BPF_DIV]: '/=', [op.BPF_OR]: '|=',
  [op.BPF_AND]: '&=', [op.BPF_LSH]: '<<=', [op.BPF_RSH]: '>>=', [op.BPF_MOD]: '%=', [op.BPF_XOR]: '^=',
  [op.BPF_MOV]: '=', [op.BPF_ARSH]: 's>>=',
};
const JMP_OP: Record<number, string> = {
  [op.BPF_JEQ]: '==', [op.BPF_JGT]: '>', [op.BPF_JGE]: '>=', [op.BPF_JSET]: '&', [op.BPF_JNE]: '!=',
  [op.BPF_JSGT]: 's>', [op.BPF_JSGE]: 's>=', [op.BPF_JLT]: '<', [op.BPF_JLE]: '<=', [op.BPF_JSLT]: 's<',
  [op.BPF_JSLE]: 's<=',
};
const ATOMIC_NAME: Record<number, string> = { [op.BPF_ADD]: 'add', [op.BPF_AND]: 'and', [op.BPF_OR]: 'or', [op.BPF_XOR]: 'xor' };

/** Linux-internal encodings the verifier log shows (not in RFC 9669). */
const BPF_JCOND = 0xe0; // JMP|JCOND with src 0: may_goto
const BPF_NOSPEC = 0xc0; // ST|NOSPEC: speculation barrier
const BPF_ADDR_SPACE_CAST = 1; // ALU64|MOV|X with off 1
const BPF_ADDR_PERCPU = -1; // ALU64|MOV|X with off -1

/** The 64-bit word of a slot, as the conformance suite's `-- raw` sections write it. */
export function rawWord(ins: Insn): bigint {
  return (
    (BigInt(ins.imm >>> 0) << 32n) |
    (BigInt(ins.off & 0xffff) << 16n) |
    (BigInt(ins.src & 0xf) << 12n) |
    (BigInt(ins.dst & 0xf) << 8n) |
    BigInt(ins.code & 0xff)
  );
}

const rawLine = (ins: Insn): string => `.raw 0x${rawWord(ins).toString(16).padStart(16, '0')}`;

/** Is slot `i` a valid instruction (in the sense of validateInsn, plus the Linux-internal forms we print)? */
function valid(insns: readonly Insn[], i: number): boolean {
  const ins = insns[i]!;
  if (ins.code === op.OP_LDDW) {
    const hi = insns[i + 1];
    if (!hi || hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) return false;
  }
  // validateInsn reports by throwing; most slots of a random or hostile input
  // are invalid, so skip the stack trace capture that dominates the cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    validateInsn(ins, i);
    return true;
  } catch {
    return false;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Number of slots the instruction at `i` occupies (2 for a well-formed lddw). */
export function insnSlots(insns: readonly Insn[], i: number): 1 | 2 {
  const ins = insns[i]!;
  if (ins.code !== op.OP_LDDW) return 1;
  const hi = insns[i + 1];
  return hi && hi.code === 0 && hi.dst === 0 && hi.src === 0 && hi.off === 0 ? 2 : 1;
}

/**
 * Format the instruction at slot `i`. For an lddw the text covers both
 * slots; the caller skips the second ({@link insnSlots}).
 */
export function formatInsn(insns: readonly Insn[], i: number, opts: DisasmOptions = {}): string {
  const ins = insns[i];
  if (!ins) throw new InstructionError(i, `no instruction at index ${i} (program has ${insns.length} slots)`);
  return opts.dialect === 'llvm' ? formatLlvm(insns, i, opts) : formatKernel(insns, i, opts);
}

// ---------------------------------------------------------------------------
// Kernel dialect (kernel/bpf/disasm.c)

const sgn = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
/** A jump or call target: `pc+N` as the kernel prints it, or a label when the listing has one there. */
const target = (opts: DisasmOptions, i: number, rel: number): string =>
  opts.labelOf?.(i + rel + 1) ?? `pc${sgn(rel)}`;
const kmem = (reg: number, off: number): string => `(r${reg} ${sgn(off)})`;
const hex32 = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function formatKernel(insns: readonly Insn[], i: number, opts: DisasmOptions): string {
  const ins = insns[i]!;
  const { code, dst, src, off, imm } = ins;
  const cls = op.classOf(code);
  const o = op.opOf(code);

  // Linux-internal forms that validateInsn (RFC 9669) does not accept.
  if (code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_X) && dst <= op.MAX_REG && src <= op.MAX_REG) {
    if (off === BPF_ADDR_SPACE_CAST) return `r${dst} = addr_space_cast(r${src}, ${imm >>> 16}, ${imm & 0xffff})`;
    if (off === BPF_ADDR_PERCPU && imm === 0) return `r${dst} = &(void __percpu *)(r${src})`;
  }
  if (code === (op.BPF_JMP | BPF_JCOND) && src === 0 && dst === 0 && imm === 0) return `may_goto ${target(opts, i, off)}`;
  if (code === (op.BPF_ST | BPF_NOSPEC) && dst === 0 && src === 0 && off === 0 && imm === 0) return 'nospec';

  if (!valid(insns, i)) {
    // A malformed first half of a well-formed pair: keep both slots (the listing skips the second).
    if (insnSlots(insns, i) === 2) return `${rawLine(ins)}\n${rawLine(insns[i + 1]!)}`;
    return rawLine(ins);
  }

  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const r = cls === op.BPF_ALU ? 'w' : 'r';
      if (o === op.BPF_END) {
        if (cls === op.BPF_ALU64) return `r${dst} = bswap${imm} r${dst}`;
        return `r${dst} = ${op.sourceOf(code) === op.BPF_TO_BE ? 'be' : 'le'}${imm} r${dst}`;
      }
      if (o === op.BPF_NEG) return `${r}${dst} = -${r}${dst}`;
      const signed = (o === op.BPF_DIV || o === op.BPF_MOD) && off === 1;
      const opStr = signed ? (o === op.BPF_DIV ? 's/=' : 's%=') : ALU_OP[o]!;
      if (op.sourceOf(code) === op.BPF_X) {
        const movsxCast = o === op.BPF_MOV && off !== 0 ? `(s${off})` : '';
        return `${r}${dst} ${opStr} ${movsxCast}${r}${src}`;
      }
      return `${r}${dst} ${opStr} ${imm}`;
    }
    case op.BPF_STX: {
      const size = SIZE_NAME[op.sizeOf(code)]!;
      if (op.modeOf(code) === op.BPF_MEM) return `*(${size} *)${kmem(dst, off)} = r${src}`;
      // BPF_ATOMIC (RFC 9669 5.3)
      const w = op.sizeOf(code) === op.BPF_DW ? '64' : '';
      if (imm === op.BPF_LOAD_ACQ) return `r${dst} = load_acquire((${size} *)${kmem(src, off)})`;
      if (imm === op.BPF_STORE_REL) return `store_release((${size} *)${kmem(dst, off)}, r${src})`;
      if (imm === op.BPF_CMPXCHG) return `r0 = atomic${w}_cmpxchg((${size} *)${kmem(dst, off)}, r0, r${src})`;
      if (imm === op.BPF_XCHG) return `r${src} = atomic${w}_xchg((${size} *)${kmem(dst, off)}, r${src})`;
      if (imm & op.BPF_FETCH)
        return `r${src} = atomic${w}_fetch_${ATOMIC_NAME[imm & 0xf0]}((${size} *)${kmem(dst, off)}, r${src})`;
      return `lock *(${size} *)${kmem(dst, off)} ${ALU_OP[imm & 0xf0]} r${src}`;
    }
    case op.BPF_ST:
      return `*(${SIZE_NAME[op.sizeOf(code)]} *)${kmem(dst, off)} = ${imm}`;
    case op.BPF_LDX: {
      const size = op.modeOf(code) === op.BPF_MEMSX ? SIZE_SX[op.sizeOf(code)] : SIZE_NAME[op.sizeOf(code)];
      return `r${dst} = *(${size} *)${kmem(src, off)}`;
    }
    case op.BPF_LD: {
      const mode = op.modeOf(code);
      const size = SIZE_NAME[op.sizeOf(code)]!;
      if (mode === op.BPF_ABS) return `r0 = *(${size} *)skb[${imm}]`;
      if (mode === op.BPF_IND) return `r0 = *(${size} *)skb[r${src} + ${imm}]`;
      const v = kernelImm64(insns, i, opts);
      // A pair with no syntax: both slots as .raw lines.
      return v === undefined ? `${rawLine(ins)}\n${rawLine(insns[i + 1]!)}` : `r${dst} = ${v}`;
    }
    default: {
      // BPF_JMP, BPF_JMP32
      if (o === op.BPF_CALL) {
        if (op.sourceOf(code) === op.BPF_X) return `callx r${dst}`;
        if (src === op.BPF_PSEUDO_CALL) return `call ${target(opts, i, imm)}`;
        if (src === op.BPF_PSEUDO_KFUNC_CALL) {
          if (off !== 0) return rawLine(ins); // module BTF index: no kernel syntax for it
          return `call ${opts.kfuncName?.(ins) ?? 'kernel-function'}#${imm}`;
        }
        return `call ${opts.helperName?.(imm) ?? defaultHelperName(imm) ?? 'unknown'}#${imm}`;
      }
      if (o === op.BPF_EXIT) return 'exit';
      if (o === op.BPF_JA) return cls === op.BPF_JMP ? `goto ${target(opts, i, off)}` : `gotol ${target(opts, i, imm)}`;
      const r = cls === op.BPF_JMP32 ? 'w' : 'r';
      const rhs = op.sourceOf(code) === op.BPF_X ? `${r}${src}` : hex32(imm);
      return `if ${r}${dst} ${JMP_OP[o]} ${rhs} goto ${target(opts, i, off)}`;
    }
  }
}

/**
 * The right-hand side of an lddw: a plain value, or the pseudo source it
 * names (RFC 9669 5.4). Undefined if the pair has no syntax (a pseudo source
 * with a high half the kernel would reject): the caller prints `.raw`.
 */
function kernelImm64(insns: readonly Insn[], i: number, opts: DisasmOptions): string | undefined {
  const custom = opts.imm64?.(insns, i);
  if (custom !== undefined) return custom;
  const { src, imm: lo } = insns[i]!;
  const hi = insns[i + 1]!.imm;
  switch (src) {
    case 0: {
      const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      return `0x${v.toString(16)}${opts.ll === false ? '' : ' ll'}`;
    }
    case op.BPF_PSEUDO_MAP_FD:
      return hi === 0 ? `map[fd:${lo}]` : undefined;
    case op.BPF_PSEUDO_MAP_VALUE:
      return `map[fd:${lo}][0]+${hi >>> 0}`;
    case op.BPF_PSEUDO_MAP_IDX:
      return hi === 0 ? `map[idx:${lo}]` : undefined;
    case op.BPF_PSEUDO_MAP_IDX_VALUE:
      return `map[idx:${lo}][0]+${hi >>> 0}`;
    case op.BPF_PSEUDO_BTF_ID:
      return hi === 0 ? `btf_id[${lo}]` : undefined;
    case op.BPF_PSEUDO_FUNC:
      return hi === 0 ? `func[${target(opts, i, lo)}]` : undefined;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// LLVM dialect (llvm/lib/Target/BPF/BPFInstrInfo.td asm strings, as printed by llvm-objdump-19)

/** LLVM prints immediates as signed hex: 0x5, -0x1. */
const lhex = (n: number | bigint): string => (n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`);
const lmem = (reg: number, off: number): string => `(r${reg} ${off < 0 ? '-' : '+'} ${lhex(Math.abs(off))})`;
const ltarget = (n: number): string => (n < 0 ? lhex(n) : `+${lhex(n)}`);

function formatLlvm(insns: readonly Insn[], i: number, opts: DisasmOptions): string {
  const ins = insns[i]!;
  const { code, dst, src, off, imm } = ins;
  const cls = op.classOf(code);
  const o = op.opOf(code);
  if (code === (op.BPF_ALU64 | op.BPF_MOV | op.BPF_X) && off === BPF_ADDR_SPACE_CAST)
    return `r${dst} = addr_space_cast(r${src}, ${lhex(imm >>> 16)}, ${lhex(imm & 0xffff)})`;
  if (code === (op.BPF_JMP | BPF_JCOND) && src === 0) return `may_goto ${ltarget(off)}`;
  if (!valid(insns, i)) return '<unknown>';
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const r = cls === op.BPF_ALU ? 'w' : 'r';
      if (o === op.BPF_END) {
        if (cls === op.BPF_ALU64) return `r${dst} = bswap${imm} r${dst}`;
        return `r${dst} = ${op.sourceOf(code) === op.BPF_TO_BE ? 'be' : 'le'}${imm} r${dst}`;
      }
      if (o === op.BPF_NEG) return `${r}${dst} = -${r}${dst}`;
      const signed = (o === op.BPF_DIV || o === op.BPF_MOD) && off === 1;
      const opStr = signed ? (o === op.BPF_DIV ? 's/=' : 's%=') : ALU_OP[o]!;
      if (op.sourceOf(code) === op.BPF_X) {
        const movsxCast = o === op.BPF_MOV && off !== 0 ? `(s${off})` : '';
        return `${r}${dst} ${opStr} ${movsxCast}${r}${src}`;
      }
      return `${r}${dst} ${opStr} ${lhex(imm)}`;
    }
    case op.BPF_STX: {
      const sizeBits = op.sizeOf(code);
      const size = SIZE_NAME[sizeBits]!;
      const sr = opts.alu32 && sizeBits !== op.BPF_DW ? 'w' : 'r';
      if (op.modeOf(code) === op.BPF_MEM) return `*(${size} *)${lmem(dst, off)} = ${sr}${src}`;
      const is32 = sizeBits === op.BPF_W;
      if (is32 && !opts.alu32 && imm !== op.BPF_LOAD_ACQ && imm !== op.BPF_STORE_REL) {
        // Without alu32 LLVM decodes only the old XADDW, and ignores the fetch bit doing it.
        if (imm === op.BPF_ADD || imm === (op.BPF_ADD | op.BPF_FETCH)) return `lock *(u32 *)${lmem(dst, off)} += r${src}`;
        return '<unknown>';
      }
      // The 32-bit atomics of alu32 always name w registers.
      const fr = is32 ? 'w' : 'r';
      if (imm === op.BPF_LOAD_ACQ) return `${sr}${dst} = load_acquire((${size} *)${lmem(src, off)})`;
      if (imm === op.BPF_STORE_REL) return `store_release((${size} *)${lmem(dst, off)}, ${sr}${src})`;
      if (imm === op.BPF_CMPXCHG)
        return `${fr}0 = ${is32 ? 'cmpxchg32_32' : 'cmpxchg_64'}(r${dst} ${off < 0 ? '-' : '+'} ${lhex(Math.abs(off))}, ${fr}0, ${fr}${src})`;
      if (imm === op.BPF_XCHG)
        return `${fr}${src} = ${is32 ? 'xchg32_32' : 'xchg_64'}(r${dst} ${off < 0 ? '-' : '+'} ${lhex(Math.abs(off))}, ${fr}${src})`;
      if (imm & op.BPF_FETCH)
        return `${fr}${src} = atomic_fetch_${ATOMIC_NAME[imm & 0xf0]}((${size} *)${lmem(dst, off)}, ${fr}${src})`;
      return `lock *(${size} *)${lmem(dst, off)} ${ALU_OP[imm & 0xf0]} ${sr}${src}`;
    }
    case op.BPF_ST:
      return `*(${SIZE_NAME[op.sizeOf(code)]} *)${lmem(dst, off)} = ${lhex(imm)}`;
    case op.BPF_LDX: {
      const signExtending = op.modeOf(code) === op.BPF_MEMSX;
      const sizeBits = op.sizeOf(code);
      const size = signExtending ? SIZE_SX[sizeBits] : SIZE_NAME[sizeBits];
      const r = opts.alu32 && !signExtending && sizeBits !== op.BPF_DW ? 'w' : 'r';
      return `${r}${dst} = *(${size} *)${lmem(src, off)}`;
    }
    case op.BPF_LD: {
      const mode = op.modeOf(code);
      const size = SIZE_NAME[op.sizeOf(code)]!;
      if (mode === op.BPF_ABS) return `r0 = *(${size} *)skb[${lhex(imm)}]`;
      if (mode === op.BPF_IND) return `r0 = *(${size} *)skb[r${src}]`;
      const custom = opts.imm64?.(insns, i);
      if (custom !== undefined) return `r${dst} = ${custom}`;
      if (src !== 0) return `ld_pseudo\tr${dst}, ${lhex(src)}, ${lhex(imm)}`;
      const v = (BigInt(insns[i + 1]!.imm >>> 0) << 32n) | BigInt(imm >>> 0);
      return `r${dst} = ${lhex(v)} ll`;
    }
    default: {
      if (o === op.BPF_CALL) return op.sourceOf(code) === op.BPF_X ? `callx r${dst}` : `call ${lhex(imm)}`;
      if (o === op.BPF_EXIT) return 'exit';
      if (o === op.BPF_JA) return cls === op.BPF_JMP ? `goto ${ltarget(off)}` : `gotol ${ltarget(imm)}`;
      const r = cls === op.BPF_JMP32 ? 'w' : 'r';
      const rhs = op.sourceOf(code) === op.BPF_X ? `${r}${src}` : lhex(imm);
      return `if ${r}${dst} ${JMP_OP[o]} ${rhs} goto ${ltarget(off)}`;
    }
  }
}

// ---------------------------------------------------------------------------

export interface ListingLine {
  /** slot index of the instruction */
  index: number;
  /** slots it covers (2 for lddw) */
  slots: 1 | 2;
  code: number;
  text: string;
}

/** One entry per instruction (an lddw pair is one entry). */
export function disassembleLines(insns: readonly Insn[], opts: DisasmOptions = {}): ListingLine[] {
  const out: ListingLine[] = [];
  for (let i = 0; i < insns.length; ) {
    const slots = insnSlots(insns, i);
    const text = formatInsn(insns, i, opts);
    out.push({ index: i, slots, code: insns[i]!.code, text });
    i += slots;
  }
  return out;
}

/**
 * Disassemble a program, one instruction per line (an lddw is one line and
 * the next line is numbered two slots on, as in bpftool's listings).
 */
export function disassemble(insns: readonly Insn[], opts: ListingOptions = {}): string {
  let fmt: DisasmOptions = opts;
  const labels = opts.labels && opts.dialect !== 'llvm' ? jumpTargets(insns) : undefined;
  if (labels) fmt = { ...opts, labelOf: (t) => (labels.has(t) ? `L${t}` : undefined) };
  return disassembleLines(insns, fmt)
    .map((l) => {
      const lines = l.text.split('\n');
      const body = lines
        .map((t, k) => {
          let prefix = '';
          if (opts.lineNumbers) prefix += `${String(l.index + k).padStart(4)}: `;
          if (opts.opcodes && !t.startsWith('.raw')) prefix += `(${l.code.toString(16).padStart(2, '0')}) `;
          return prefix + t;
        })
        .join('\n');
      return labels?.has(l.index) ? `L${l.index}:\n${body}` : body;
    })
    .join('\n');
}

/**
 * The slots that jumps, bpf-to-bpf calls and function-pointer lddws of a
 * well-formed program target (only targets that start an instruction).
 */
export function jumpTargets(insns: readonly Insn[]): Set<number> {
  const starts = new Set<number>();
  for (let i = 0; i < insns.length; i += insnSlots(insns, i)) starts.add(i);
  const out = new Set<number>();
  for (const i of starts) {
    const ins = insns[i]!;
    if (!valid(insns, i) && !(ins.code === (op.BPF_JMP | BPF_JCOND) && ins.src === 0)) continue;
    const t = isJump(ins) ? jumpTarget(ins, i) : (isPseudoCall(ins) || isPseudoFunc(ins)) ? calleeStart(ins, i) : undefined;
    if (t !== undefined && starts.has(t)) out.add(t);
  }
  return out;
}
