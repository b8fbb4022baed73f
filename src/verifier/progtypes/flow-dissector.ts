/**
 * Flow dissector programs (BPF_PROG_TYPE_FLOW_DISSECTOR): the context is
 * `struct __sk_buff`, of which net/core/filter.c
 * flow_dissector_is_valid_access admits only data / data_end (whole u32,
 * not sign-extended; the packet is read-only) and `flow_keys`, a pointer to
 * the struct bpf_flow_keys the program fills (PTR_TO_FLOW_KEYS: whole u64
 * read; its accesses are flow-keys.ts's). No LD_ABS, no return-value check.
 * Linux's test run for this type dissects a packet; tsbpf has none, so the
 * runtime refuses a test run (ENOTSUPP), and refuses at load a program that
 * reads flow_keys (runtime/loader.ts), which it has no struct to point to.
 */
import { SK_BUFF as B } from '../../uapi/ctx.js';
import type { ProgTypeRules } from './index.js';

export const FLOW_DISSECTOR: ProgTypeRules = {
  name: 'flow_dissector',
  ctxSize: B.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write, signExtend }) {
    if (off < 0 || off >= B.size || off % size !== 0 || write) return null;
    if (off >= B.data && off < B.data + 4) return size === 4 && !signExtend ? 'pkt' : null;
    if (off >= B.data_end && off < B.data_end + 4) return size === 4 && !signExtend ? 'pkt_end' : null;
    if (off >= B.flow_keys && off < B.flow_keys + 8) return size === 8 ? 'flow_keys' : null;
    return null;
  },
};
