// Rejected by Linux: the option buffer is smaller than the size passed (ARG_CONST_SIZE).
#include "struct_ops_cc_sockopt.h"
SEC("struct_ops/init") void BPF_PROG(sss_init, struct sock *sk) {
  int one = 1;
  bpf_setsockopt(sk, SOL_TCP, TCP_NODELAY, &one, 8);
}
SEC(".struct_ops") struct tcp_congestion_ops sss_cc = {
  .ssthresh = (void *)sso_ssthresh, .cong_avoid = (void *)sso_cong_avoid,
  .undo_cwnd = (void *)sso_undo_cwnd, .init = (void *)sss_init, .name = "tsbpf_sss" };
