// Accepted by Linux: every field bpf_tcp_ca_btf_struct_access lets a congestion control
// write (tcp_sock's cwnd and ssthresh state, the socket's pacing, the private area
// anywhere inside it, icsk_ack.pending).
#include "struct_ops_cc_write.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(sow_ok_ssthresh, struct sock *sk) {
  struct tcp_sock *tp = (struct tcp_sock *)sk;
  struct inet_connection_sock *icsk = (struct inet_connection_sock *)sk;
  tp->snd_cwnd = 10;
  tp->snd_cwnd_cnt = 0;
  tp->snd_cwnd_stamp = 5;
  tp->snd_ssthresh = 20;
  tp->ecn_flags = 1;
  tp->app_limited = 0;
  sk->sk_pacing_rate = 1000;
  sk->sk_pacing_status = 1;
  icsk->icsk_ca_priv[1] = 7;
  icsk->icsk_ack.pending = 1;
  return 2;
}
SIMPLE_CONG_AVOID(sow_ok)
SIMPLE_UNDO(sow_ok)
CC(sow_ok)
