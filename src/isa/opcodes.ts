/**
 * Opcode constants of the eBPF instruction set, as RFC 9669 section 3 lays out
 * the 8-bit opcode field: the low 3 bits are the class; for arithmetic and jump
 * classes bit 3 is the source (K = immediate, X = register) and the high 4 bits
 * the operation; for load and store classes bits 3-4 are the size and bits 5-7
 * the mode.
 */

// Instruction classes (RFC 9669 3.3)
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const classOf = (code: number): number => code & 0x07;

// Source operand (RFC 9669 4)
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const sourceOf = (code: number): number => code & 0x08;
/** For BPF_END in class ALU the source bit selects the byte order instead. */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// Arithmetic operations (RFC 9669 4.1)
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;
export const opOf = (code: number): number => code & 0xf0;

// Jump operations (RFC 9669 4.3)
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
/** Linux 6.9+ (not in RFC 9669): JMP|JCOND with src BPF_MAY_GOTO is `may_goto` */
export const BPF_JCOND = 0xe0;
export const BPF_MAY_GOTO = 0;
export const OP_MAY_GOTO = 0x05 | BPF_JCOND; // BPF_JMP | BPF_JCOND | BPF_K
/** may_goto's per-invocation budget (the kernel's BPF_MAX_LOOPS) */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;

// Load/store sizes (RFC 9669 5.1)
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;
export const sizeOf = (code: number): number => code & 0x18;
/** Bytes moved by a load/store of the given size field. */
export const sizeBytes = (size: number): 1 | 2 | 4 | 8 =>
  size === BPF_B ? 1 : size === BPF_H ? 2 : size === BPF_W ? 4 : 8;

// Load/store modes (RFC 9669 5.1)
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;
export const modeOf = (code: number): number => code & 0xe0;

// Atomic operations, in the imm field (RFC 9669 5.3)
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** Linux 6.15+ extensions (not in RFC 9669): load-acquire and store-release. */
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

// Pseudo sources of lddw (RFC 9669 5.4, include/uapi/linux/bpf.h)
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// Pseudo sources of call (RFC 9669 4.3.1)
export const BPF_PSEUDO_HELPER = 0;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

// Frequently used whole opcodes
export const OP_LDDW = BPF_LD | BPF_IMM | BPF_DW; // 0x18
export const OP_CALL = BPF_JMP | BPF_CALL; // 0x85
export const OP_CALLX = BPF_JMP | BPF_CALL | BPF_X; // 0x8d
export const OP_EXIT = BPF_JMP | BPF_EXIT; // 0x95
export const OP_JA = BPF_JMP | BPF_JA; // 0x05
export const OP_JA32 = BPF_JMP32 | BPF_JA; // 0x06, "gotol"

/** Register numbers: r0..r9 general purpose, r10 the read-only frame pointer. */
export const MAX_REG = 10;
export const REG_FP = 10;

/** Limits the kernel enforces (include/linux/bpf.h, kernel/bpf/verifier.c). */
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
export const MAX_TAIL_CALL_CNT = 33;
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;
/** BPF_MAXINSNS: the size limit for unprivileged programs; privileged ones may be up to 1M. */
export const BPF_MAXINSNS = 4096;
