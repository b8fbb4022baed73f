// A congestion control that writes the socket (bpf_tcp_ca_btf_struct_access) and calls
// the kernel's own congestion control kfuncs (net/ipv4/bpf_tcp_ca.c, tcp_cubic.c):
// the members used, relocated by CO-RE against the kernel's own layouts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct sock { unsigned long sk_pacing_rate; __u32 sk_pacing_status; } __attribute__((preserve_access_index));
struct inet_connection_sock {
  __u64 icsk_ca_priv[13];
  struct { __u8 pending; } __attribute__((preserve_access_index)) icsk_ack;
} __attribute__((preserve_access_index));
struct tcp_sock {
  __u32 snd_ssthresh, snd_cwnd, snd_cwnd_cnt, snd_cwnd_stamp, snd_cwnd_clamp, app_limited;
  __u8 ecn_flags;
} __attribute__((preserve_access_index));
struct ack_sample { __u32 pkts_acked; __s32 rtt_us; __u32 in_flight; } __attribute__((preserve_access_index));
struct tcp_congestion_ops {
  __u32 (*ssthresh)(struct sock *sk);
  void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
  void (*pkts_acked)(struct sock *sk, const struct ack_sample *sample);
  __u32 (*undo_cwnd)(struct sock *sk);
  unsigned long (*get_info)(struct sock *sk, __u32 ext, int *attr, void *info);
  char name[16];
  void (*init)(struct sock *sk);
};
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;
extern __u32 tcp_slow_start(struct tcp_sock *tp, __u32 acked) __ksym;
extern void tcp_cong_avoid_ai(struct tcp_sock *tp, __u32 w, __u32 acked) __ksym;
extern void cubictcp_init(struct sock *sk) __ksym;
extern void cubictcp_acked(struct sock *sk, const struct ack_sample *sample) __ksym;
#define CC(prefix, extra...) \
  SEC(".struct_ops") struct tcp_congestion_ops prefix##_cc = { \
    .ssthresh = (void *)prefix##_ssthresh, .cong_avoid = (void *)prefix##_cong_avoid, \
    .undo_cwnd = (void *)prefix##_undo_cwnd, .name = "tsbpf_" #prefix, extra };
#define SIMPLE_CONG_AVOID(prefix) \
  SEC("struct_ops/cong_avoid") void BPF_PROG(prefix##_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
#define SIMPLE_UNDO(prefix) \
  SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(prefix##_undo_cwnd, struct sock *sk) { return 2; }
#define SIMPLE_SSTHRESH(prefix) \
  SEC("struct_ops/ssthresh") __u32 BPF_PROG(prefix##_ssthresh, struct sock *sk) { return 2; }
char _license[] SEC("license") = "GPL";
