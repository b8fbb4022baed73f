/**
 * sk_lookup programs (BPF_PROG_TYPE_SK_LOOKUP, attached to a network
 * namespace to pick the socket for an incoming connection or packet): the
 * context is `struct bpf_sk_lookup` (include/uapi/linux/bpf.h). The rules
 * follow net/core/filter.c sk_lookup_is_valid_access: nothing is writable;
 * `sk` (offset 0) reads as a whole u64 and is a socket pointer (refused as
 * unsupported: tsbpf has no sockets); the u32 fields take 1, 2 or 4-byte
 * reads; `remote_port` (a __be16) 1 or 2 bytes, or 4 for the programs
 * written when it was a u32; its zero padding 1 or 2. The return value is
 * SK_DROP (0) or SK_PASS (1). No hook in tsbpf: loaded, verified, not run.
 */
import { narrowOk, type ProgTypeRules } from './index.js';
import { BPF_SK_LOOKUP } from '../../uapi/ctx.js';

const L = BPF_SK_LOOKUP;

export const SK_LOOKUP: ProgTypeRules = {
  name: 'sk_lookup',
  ctxSize: L.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  retRange: [0, 1],
  ctxAccess({ off, size, write }) {
    if (write || off < 0 || off >= L.ingress_ifindex + 4 || off % size !== 0) return null;
    if (off < L.family) return off === L.sk && size === 8 ? 'sock_or_null' : null;
    if (off >= L.remote_port && off < L.pad) return size === 4 || narrowOk(size, 2) ? 'scalar' : null;
    if (off >= L.pad && off < L.local_ip4) return narrowOk(size, 2) ? 'scalar' : null;
    return narrowOk(size, 4) ? 'scalar' : null;
  },
};
