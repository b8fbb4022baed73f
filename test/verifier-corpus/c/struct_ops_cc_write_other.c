// Rejected by Linux: snd_cwnd_clamp is not a field a congestion control may write.
#include "struct_ops_cc_write.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(sow_other_ssthresh, struct sock *sk) {
  ((struct tcp_sock *)sk)->snd_cwnd_clamp = 1;
  return 2;
}
SIMPLE_CONG_AVOID(sow_other)
SIMPLE_UNDO(sow_other)
CC(sow_other)
