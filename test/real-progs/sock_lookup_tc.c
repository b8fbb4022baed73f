/* A tc classifier that looks up the TCP socket a packet belongs to, as
 * cilium's and katran's programs do: bpf_sk_lookup_tcp on a tuple parsed from
 * the packet, a read of the socket's state, and bpf_sk_release on every path
 * that got one (the verifier tracks the reference). */
#include "real.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>

SEC("tc")
int sock_lookup_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	int verdict = TC_ACT_OK;

	if ((void *)(th + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->protocol != 6)
		return TC_ACT_OK;
	t.ipv4.saddr = ip->saddr;
	t.ipv4.daddr = ip->daddr;
	t.ipv4.sport = th->source;
	t.ipv4.dport = th->dest;
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	if (sk->state == 10 /* TCP_LISTEN */ && sk->src_port != 22)
		verdict = TC_ACT_SHOT;
	bpf_sk_release(sk);
	return verdict;
}
