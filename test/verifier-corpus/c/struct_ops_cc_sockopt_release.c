// Rejected by Linux: release may not call bpf_setsockopt (bpf_tcp_ca_get_func_proto).
#include "struct_ops_cc_sockopt.h"
SEC("struct_ops/release") void BPF_PROG(ssr_release, struct sock *sk) {
  int one = 1;
  bpf_setsockopt(sk, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
}
SEC(".struct_ops") struct tcp_congestion_ops ssr_cc = {
  .ssthresh = (void *)sso_ssthresh, .cong_avoid = (void *)sso_cong_avoid,
  .undo_cwnd = (void *)sso_undo_cwnd, .release = (void *)ssr_release, .name = "tsbpf_ssr" };
