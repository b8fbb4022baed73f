/**
 * Typed errors shared by every layer.
 *
 * Each error carries the errno name the Linux kernel would return for the same
 * condition (bpf(2) returns -EINVAL, -E2BIG, -ENOENT, ...), so that code written
 * against libbpf or cilium/ebpf can branch on the same names.
 */

export type Errno =
  | 'EINVAL'
  | 'E2BIG'
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOSPC'
  | 'EPERM'
  | 'EACCES'
  | 'EFAULT'
  | 'ENOMEM'
  | 'EBUSY'
  | 'ENOTSUPP'
  | 'EOPNOTSUPP'
  | 'ENOEXEC'
  | 'EBADF'
  | 'ELOOP'
  | 'ERANGE'
  | 'EAGAIN'
  | 'ENOSYS'
  | 'ENODEV'
  | 'ENXIO'
  | 'EBADMSG'
  | 'ETIMEDOUT'
  | 'ESRCH'
  | 'EINTR'
  | 'EIO'
  | 'ENOTTY'
  | 'EMFILE'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EROFS'
  | 'EOVERFLOW'
  | 'ENOTSOCK'
  | 'EADDRNOTAVAIL'
  | 'ENOLINK';

/** Numeric values as in include/uapi/asm-generic/errno-base.h and errno.h (x86-64). */
export const ERRNO_VALUES: Record<Errno, number> = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  ENXIO: 6,
  ENODEV: 19,
  EBADMSG: 74,
  ETIMEDOUT: 110,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENOTTY: 25,
  EMFILE: 24,
  ENOTDIR: 20,
  EISDIR: 21,
  EROFS: 30,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EADDRNOTAVAIL: 99,
  ENOLINK: 67,
  // ENOTSUPP is kernel-internal (524), but bpf(2) does leak it for some map ops.
  ENOTSUPP: 524,
};

export class TsbpfError extends Error {
  readonly errno: Errno;
  constructor(errno: Errno, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.errno = errno;
  }
  /** The negative errno value, as a helper or a syscall would return it. */
  get errnoValue(): number {
    return -ERRNO_VALUES[this.errno];
  }
}

/** A malformed instruction: reserved fields set, a bad lddw pair, a jump out of range. */
export class InstructionError extends TsbpfError {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super('EINVAL', `insn ${index}: ${reason}`);
  }
}

/** A parse error in assembly source, with the 1-based line it was found on. */
export class AsmError extends TsbpfError {
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly text?: string,
  ) {
    super('EINVAL', `line ${line}: ${reason}${text !== undefined ? ` in '${text}'` : ''}`);
  }
}
