// Rejected by Linux: a kfunc's struct sock argument must be a kernel object, not a number.
#include "struct_ops_cc_write.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(soksc_ssthresh, struct sock *sk) {
  return tcp_reno_ssthresh((struct sock *)(unsigned long)bpf_ktime_get_ns());
}
SIMPLE_CONG_AVOID(soksc)
SIMPLE_UNDO(soksc)
CC(soksc)
