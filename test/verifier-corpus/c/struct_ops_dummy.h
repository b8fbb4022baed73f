// bpf_dummy_ops (net/bpf/bpf_dummy_struct_ops.c), the kernel's ops struct for tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct bpf_dummy_ops_state { int val; } __attribute__((preserve_access_index));
struct bpf_dummy_ops {
  int (*test_1)(struct bpf_dummy_ops_state *cb);
  int (*test_2)(struct bpf_dummy_ops_state *cb, int a1, unsigned short a2, char a3, unsigned long a4);
  int (*test_sleepable)(struct bpf_dummy_ops_state *cb);
};
struct sock { int sk_err; } __attribute__((preserve_access_index));
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
char _license[] SEC("license") = "GPL";
