// Rejected by Linux: tcp_congestion_ops.get_info has no stub in the kernel's cfi_stubs
// (bpf_struct_ops_supported): "attach to unsupported member".
#include "struct_ops_cc_write.h"
SEC("struct_ops/get_info") unsigned long BPF_PROG(sogi_get_info, struct sock *sk, __u32 ext, int *attr, void *info) { return 0; }
SIMPLE_SSTHRESH(sogi)
SIMPLE_CONG_AVOID(sogi)
SIMPLE_UNDO(sogi)
CC(sogi, .get_info = (void *)sogi_get_info)
