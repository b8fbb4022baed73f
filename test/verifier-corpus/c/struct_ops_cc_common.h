// A congestion control as struct_ops programs see it (no vmlinux.h): the members
// used, relocated by CO-RE against the kernel's own layouts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct sock;
struct tcp_sock { __u32 snd_ssthresh; __u32 snd_cwnd; } __attribute__((preserve_access_index));
struct tcp_congestion_ops {
  __u32 (*ssthresh)(struct sock *sk);
  void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
  __u32 (*undo_cwnd)(struct sock *sk);
  char name[16];
};
