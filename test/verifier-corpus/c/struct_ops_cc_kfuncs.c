// Accepted by Linux: the congestion control kfuncs registered for struct_ops programs
// (bpf_tcp_ca_check_kfunc_ids, tcp_cubic_check_kfunc_ids) with the socket they are given
// (a tcp_sock where a struct sock is asked for: it begins with one) and their ack_sample.
#include "struct_ops_cc_write.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(sok_ssthresh, struct sock *sk) { return tcp_reno_ssthresh(sk); }
SEC("struct_ops/cong_avoid") void BPF_PROG(sok_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {
  struct tcp_sock *tp = (struct tcp_sock *)sk;
  if (tp->snd_cwnd < tp->snd_ssthresh) acked = tcp_slow_start(tp, acked);
  tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
  tcp_reno_cong_avoid(sk, ack, acked);
}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(sok_undo_cwnd, struct sock *sk) { return tcp_reno_undo_cwnd(sk); }
SEC("struct_ops/init") void BPF_PROG(sok_init, struct sock *sk) { cubictcp_init(sk); }
SEC("struct_ops/pkts_acked") void BPF_PROG(sok_pkts_acked, struct sock *sk, const struct ack_sample *sample) {
  cubictcp_acked(sk, sample);
}
CC(sok, .init = (void *)sok_init, .pkts_acked = (void *)sok_pkts_acked)
