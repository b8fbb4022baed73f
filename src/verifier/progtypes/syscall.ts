/**
 * BPF_PROG_TYPE_SYSCALL: the context is caller-provided memory of any size
 * below 64 KiB, readable and writable at aligned offsets
 * (syscall_prog_is_valid_access); the runtime bounds it by the buffer the
 * caller passes.
 */
import type { ProgTypeRules } from './index.js';

export const SYSCALL: ProgTypeRules = {
  name: 'syscall',
  ctxSize: 0xffff,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size }) {
    if (off < 0 || off >= 0xffff || off % size !== 0) return null;
    return 'scalar';
  },
};
