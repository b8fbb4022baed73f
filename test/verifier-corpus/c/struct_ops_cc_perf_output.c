// Rejected by Linux: bpf_tcp_ca_get_func_proto (then bpf_base_func_proto) has no bpf_perf_event_output.
#include "struct_ops_cc_common.h"
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } so_events SEC(".maps");
SEC("struct_ops/ssthresh") __u32 BPF_PROG(so_perf_ssthresh, struct sock *sk) {
  __u64 v = 1;
  bpf_perf_event_output(ctx, &so_events, BPF_F_CURRENT_CPU, &v, sizeof(v));
  return 2;
}
SEC("struct_ops/cong_avoid") void BPF_PROG(so_perf_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(so_perf_undo_cwnd, struct sock *sk) { return 2; }
SEC(".struct_ops") struct tcp_congestion_ops so_perf_cc = {
  .ssthresh = (void *)so_perf_ssthresh, .cong_avoid = (void *)so_perf_cong_avoid, .undo_cwnd = (void *)so_perf_undo_cwnd,
  .name = "tsbpf_so_perf",
};
char _license[] SEC("license") = "GPL";
