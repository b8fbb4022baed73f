import { TsbpfError, type Errno } from '../../errors.js';

/**
 * Malformed or unusable BTF. `offset` is the byte offset in the blob the
 * problem was found at (-1 when it is not about a place in the bytes, e.g. a
 * value that does not fit its type), so a corrupted object can be pinpointed
 * with a hex dump.
 */
export class BtfError extends TsbpfError {
  constructor(
    readonly offset: number,
    readonly reason: string,
    errno: Errno = 'EINVAL',
  ) {
    super(errno, offset >= 0 ? `BTF at offset ${offset}: ${reason}` : `BTF: ${reason}`);
  }
}
