// Rejected by Linux: release may not call bpf_getsockopt either (bpf_tcp_ca_get_func_proto).
#include "struct_ops_cc_sockopt.h"
SEC("struct_ops/release") void BPF_PROG(sgr_release, struct sock *sk) {
  int v = 0;
  bpf_getsockopt(sk, SOL_TCP, TCP_MAXSEG, &v, sizeof(v));
}
SEC(".struct_ops") struct tcp_congestion_ops sgr_cc = {
  .ssthresh = (void *)sso_ssthresh, .cong_avoid = (void *)sso_cong_avoid,
  .undo_cwnd = (void *)sso_undo_cwnd, .release = (void *)sgr_release, .name = "tsbpf_sgr" };
