/**
 * The registers a kprobe or uprobe context holds, as libbpf's bpf_tracing.h
 * reads them: `struct pt_regs` on x86-64 (arch/x86/include/asm/ptrace.h)
 * and `struct user_pt_regs` on arm64 (arch/arm64/include/uapi/asm/ptrace.h,
 * what a program built with __TARGET_ARCH_arm64 reads the context as).
 * PT_REGS_PARM1..n are the calling convention's argument registers; the
 * _SYSCALL variants use the syscall ABI's (x86-64 passes the fourth in r10).
 */
export type Arch = 'x86_64' | 'arm64';

export interface RegsLayout {
  /** sizeof the context struct */
  size: number;
  /** byte offset of each register by the name bpf_tracing.h gives it */
  offset: Readonly<Record<string, number>>;
  /** PT_REGS_PARM1..: function arguments */
  params: readonly string[];
  /** PT_REGS_PARM1_SYSCALL..: syscall arguments */
  syscallParams: readonly string[];
  /** PT_REGS_RC */
  rc: string;
}

const X86_NAMES = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'];

export const REGS: Readonly<Record<Arch, RegsLayout>> = {
  x86_64: {
    size: 168,
    offset: Object.fromEntries(X86_NAMES.map((n, i) => [n, i * 8])),
    params: ['di', 'si', 'dx', 'cx', 'r8', 'r9'],
    syscallParams: ['di', 'si', 'dx', 'r10', 'r8', 'r9'],
    rc: 'ax',
  },
  arm64: {
    size: 272,
    offset: { ...Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`x${i}`, i * 8])), sp: 248, pc: 256, ip: 256, pstate: 264 },
    params: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
    syscallParams: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'],
    rc: 'x0',
  },
};

/** A register file as bytes: `values` by register name (unknown names: EINVAL from the caller's check). */
export function regsBytes(arch: Arch, values: ReadonlyMap<string, bigint>): Uint8Array {
  const l = REGS[arch];
  const out = new Uint8Array(l.size);
  const dv = new DataView(out.buffer);
  for (const [name, v] of values) dv.setBigUint64(l.offset[name]!, BigInt.asUintN(64, v), true);
  return out;
}
