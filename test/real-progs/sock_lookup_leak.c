/* The socket a lookup returns must be released on every path: here the
 * listening-socket path returns without bpf_sk_release, and the verifier
 * refuses the program ("Unreleased reference"). */
#include "real.h"
#include <linux/pkt_cls.h>

SEC("tc")
int sock_lookup_leak(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	t.ipv4.dport = __builtin_bswap16(80);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	if (sk->state == 10)
		return TC_ACT_SHOT;
	bpf_sk_release(sk);
	return TC_ACT_OK;
}
