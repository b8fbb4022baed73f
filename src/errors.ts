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
  | 'EPROTO'
  | 'ETIME'
  | 'ETIMEDOUT'
  // file-system errnos, for input and output files (as the system reports them)
  | 'EIO'
  | 'EXDEV'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENFILE'
  | 'EMFILE'
  | 'ETXTBSY'
  | 'EFBIG'
  | 'ESPIPE'
  | 'EROFS'
  | 'EMLINK'
  | 'EPIPE'
  | 'ENAMETOOLONG'
  | 'ENOTEMPTY'
  | 'EDQUOT'
  // for the Linux backend's system calls
  | 'ESRCH'
  | 'EINTR'
  | 'ENOTTY'
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
  EPROTO: 71,
  ETIME: 62,
  ETIMEDOUT: 110,
  ELOOP: 40,
  EIO: 5,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  EDQUOT: 122,
  EOPNOTSUPP: 95,
  ESRCH: 3,
  EINTR: 4,
  ENOTTY: 25,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EADDRNOTAVAIL: 99,
  ENOLINK: 67,
  // ENOTSUPP is kernel-internal (524), but bpf(2) does leak it for some map ops.
  ENOTSUPP: 524,
};

/** The C library's strerror text for an errno (glibc's wording), as bpftool prints it. */
const ERRNO_TEXT: Partial<Record<Errno, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  ESPIPE: 'Illegal seek',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  EPIPE: 'Broken pipe',
  ERANGE: 'Numerical result out of range',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  EBADMSG: 'Bad message',
  EPROTO: 'Protocol error',
  EOPNOTSUPP: 'Operation not supported',
  ETIMEDOUT: 'Connection timed out',
  EDQUOT: 'Disk quota exceeded',
  ENOTSUPP: 'Unknown error 524',
};

export function strerror(errno: Errno): string {
  return ERRNO_TEXT[errno] ?? errno;
}

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
