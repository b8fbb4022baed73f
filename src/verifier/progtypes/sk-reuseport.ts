/**
 * sk_reuseport programs (BPF_PROG_TYPE_SK_REUSEPORT, SEC("sk_reuseport") and
 * SEC("sk_reuseport/migrate"): pick the socket of a SO_REUSEPORT group for
 * an incoming packet, or the listener a closing one's requests migrate to).
 * The context is `struct sk_reuseport_md`; the rules follow net/core/filter.c
 * sk_reuseport_is_valid_access: nothing is writable; data and data_end are
 * the packet pointers (whole u64 reads; the packet is read-only,
 * may_access_direct_pkt_data); `hash` is a whole u32; `sk` a whole u64, a
 * PTR_TO_SOCKET; `migrating_sk` a whole u64, a PTR_TO_SOCK_COMMON_OR_NULL;
 * len, ip_protocol and bind_inany take 1, 2 or 4-byte reads, eth_protocol
 * 2 or 4 (no narrower than sk_buff's 16-bit protocol). No return-value check
 * (check_return_code has no case for the type). The helpers are
 * sk_reuseport_func_proto's (helper-progtypes.ts). Linux has no test run for
 * the type, tsbpf no reuseport group: loaded and verified, not run.
 */
import { SK_REUSEPORT_MD as R } from '../../uapi/ctx.js';
import { narrowOk, type ProgTypeRules } from './index.js';

export const SK_REUSEPORT: ProgTypeRules = {
  name: 'sk_reuseport',
  ctxSize: R.size,
  ldAbs: false,
  pktWrite: false,
  unprivileged: false,
  ctxAccess({ off, size, write }) {
    if (off < 0 || off >= R.size || off % size !== 0 || write) return null;
    switch (off) {
      case R.data: return size === 8 ? 'pkt' : null;
      case R.data_end: return size === 8 ? 'pkt_end' : null;
      case R.hash: return size === 4 ? 'scalar' : null;
      case R.sk: return size === 8 ? 'sock_ptr' : null;
      case R.migrating_sk: return size === 8 ? 'sock' : null;
    }
    if (off >= R.eth_protocol && off < R.eth_protocol + 4) return size >= 2 && narrowOk(size, 4) ? 'scalar' : null;
    if (off >= R.len && off < R.hash) return narrowOk(size, 4) ? 'scalar' : null;
    return null;
  },
};
