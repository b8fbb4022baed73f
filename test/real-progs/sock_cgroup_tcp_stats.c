/* A cgroup skb program that reads TCP statistics of the socket sending each
 * packet, as tcp-stats tools do: skb->sk (a socket or NULL), bpf_sk_fullsock,
 * bpf_tcp_sock, and fields of struct bpf_sock and struct bpf_tcp_sock, summed
 * into a map. */
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} acked SEC(".maps");

SEC("cgroup_skb/egress")
int sock_cgroup_tcp_stats(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;
	__u32 zero = 0;
	__u64 *v;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != 6)
		return 1;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	v = bpf_map_lookup_elem(&acked, &zero);
	if (v)
		__sync_fetch_and_add(v, tp->bytes_acked + tp->snd_cwnd);
	return 1;
}
