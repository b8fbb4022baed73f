// Accepted by Linux: init sets and reads socket options on its tcp_sock.
#include "struct_ops_cc_sockopt.h"
SEC("struct_ops/init") void BPF_PROG(sso_init, struct sock *sk) {
  int one = 1, mss = 0;
  bpf_setsockopt(sk, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
  bpf_getsockopt(sk, SOL_TCP, TCP_MAXSEG, &mss, sizeof(mss));
  bpf_setsockopt(sk, SOL_SOCKET, SO_SNDBUF, &mss, sizeof(mss));
}
SEC(".struct_ops") struct tcp_congestion_ops sso_cc = {
  .ssthresh = (void *)sso_ssthresh, .cong_avoid = (void *)sso_cong_avoid,
  .undo_cwnd = (void *)sso_undo_cwnd, .init = (void *)sso_init, .name = "tsbpf_sso" };
