// Rejected by Linux: an 8-byte write at snd_cwnd runs past the 4-byte field.
#include "struct_ops_cc_write.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(sow_wide_ssthresh, struct sock *sk) {
  __u32 *cwnd = &((struct tcp_sock *)sk)->snd_cwnd;
  asm volatile("r2 = 1; *(u64 *)(%0 + 0) = r2" :: "r"(cwnd) : "r2");
  return 2;
}
SIMPLE_CONG_AVOID(sow_wide)
SIMPLE_UNDO(sow_wide)
CC(sow_wide)
