// Rejected by Linux: a read past the end of struct tcp_sock.
#include "struct_ops_cc_common.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(so_beyond_ssthresh, struct sock *sk) {
  return *(volatile __u8 *)((void *)sk + 8000);
}
SEC("struct_ops/cong_avoid") void BPF_PROG(so_beyond_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(so_beyond_undo_cwnd, struct sock *sk) { return 2; }
SEC(".struct_ops") struct tcp_congestion_ops so_beyond_cc = {
  .ssthresh = (void *)so_beyond_ssthresh, .cong_avoid = (void *)so_beyond_cong_avoid, .undo_cwnd = (void *)so_beyond_undo_cwnd,
  .name = "tsbpf_so_beyond",
};
char _license[] SEC("license") = "GPL";
