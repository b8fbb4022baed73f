// Accepted by Linux: a congestion control's `struct sock *` is a tcp_sock
// (bpf_tcp_ca_is_valid_access), read through at its fields; a void member
// returns nothing.
#include "struct_ops_cc_common.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(so_read_ssthresh, struct sock *sk) {
  struct tcp_sock *tp = (struct tcp_sock *)sk;
  return tp->snd_cwnd > 4 ? tp->snd_cwnd / 2 : 2;
}
SEC("struct_ops/cong_avoid") void BPF_PROG(so_read_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(so_read_undo_cwnd, struct sock *sk) {
  return ((struct tcp_sock *)sk)->snd_ssthresh;
}
SEC(".struct_ops") struct tcp_congestion_ops so_read_cc = {
  .ssthresh = (void *)so_read_ssthresh, .cong_avoid = (void *)so_read_cong_avoid, .undo_cwnd = (void *)so_read_undo_cwnd,
  .name = "tsbpf_so_read",
};
char _license[] SEC("license") = "GPL";
