// The socket helpers of tracing programs on sockets of the kernel model
// (src/testing/sockets.ts): bpf_get_socket_cookie on a struct sock * (the
// tcppktlat way of naming a connection), the bpf_skc_to_* casts, and
// bpf_get_task_stack on a task of the model (offcputime's way).
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "seen.h"

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(cookie, struct sock *sk)
{
	put(0, bpf_get_socket_cookie(sk));
	put(1, bpf_get_socket_cookie(sk));
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(casts, struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	put(2, tp ? tp->srtt_us : (__u64)-1);
	put(3, bpf_skc_to_tcp6_sock(sk) != 0);
	put(4, bpf_skc_to_unix_sock(sk) != 0);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(task_stack, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 ips[4] = {};
	long n = bpf_get_task_stack(prev, ips, sizeof(ips), 0);

	put(5, n);
	put(6, ips[0]);
	put(7, ips[1]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
