// A congestion control calling bpf_setsockopt/bpf_getsockopt on its socket
// (bpf_tcp_ca_get_func_proto: bpf_sk_setsockopt_proto / bpf_sk_getsockopt_proto, for every
// member but release).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct sock;
struct tcp_congestion_ops {
  __u32 (*ssthresh)(struct sock *sk);
  void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
  __u32 (*undo_cwnd)(struct sock *sk);
  void (*init)(struct sock *sk);
  void (*release)(struct sock *sk);
  char name[16];
};
#define SOL_TCP 6
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define SO_SNDBUF 7
#define SOL_SOCKET 1
char _license[] SEC("license") = "GPL";
SEC("struct_ops/ssthresh") __u32 BPF_PROG(sso_ssthresh, struct sock *sk) { return 2; }
SEC("struct_ops/cong_avoid") void BPF_PROG(sso_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}
SEC("struct_ops/undo_cwnd") __u32 BPF_PROG(sso_undo_cwnd, struct sock *sk) { return 2; }
