// Accepted by Linux: a congestion control's own helpers (bpf_tcp_ca_get_func_proto):
// bpf_ktime_get_coarse_ns and the socket's local storage, keyed by the tcp_sock it is given.
#include "struct_ops_cc_write.h"
struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} soh_store SEC(".maps");
SEC("struct_ops/ssthresh") __u32 BPF_PROG(soh_ssthresh, struct sock *sk) {
  __u64 *v = bpf_sk_storage_get(&soh_store, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (v) *v = bpf_ktime_get_coarse_ns();
  bpf_sk_storage_delete(&soh_store, sk);
  return 2;
}
SIMPLE_CONG_AVOID(soh)
SIMPLE_UNDO(soh)
CC(soh)
