// Rejected by Linux: struct_ops programs need a GPL-compatible license (check_struct_ops_btf_id).
#include "struct_ops_cc_common.h"
SEC("struct_ops/ssthresh") __u32 BPF_PROG(so_nongpl_ssthresh, struct sock *sk) { return 2; }
SEC("struct_ops/cong_avoid") void BPF_PROG(so_nongpl_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(so_nongpl_undo_cwnd, struct sock *sk) { return 2; }
SEC(".struct_ops") struct tcp_congestion_ops so_nongpl_cc = {
  .ssthresh = (void *)so_nongpl_ssthresh, .cong_avoid = (void *)so_nongpl_cong_avoid, .undo_cwnd = (void *)so_nongpl_undo_cwnd,
  .name = "tsbpf_so_nongpl",
};
char _license[] SEC("license") = "Proprietary";
