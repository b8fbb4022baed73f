// SPDX-License-Identifier: MIT
/*
 * An XDP program for a UDP socket (src/hooks/packet/dgram.ts), deciding on
 * the first bytes of the payload of IPv4 datagrams:
 *   "drop..." -> XDP_DROP (the application never sees it);
 *   "ping..." -> answered by the program: addresses and ports swapped, the
 *                payload's first 4 bytes rewritten to "pong", XDP_TX;
 *   otherwise -> XDP_PASS.
 * `seen` counts datagrams by verdict.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline int verdict(__u32 action)
{
	__u64 *n = bpf_map_lookup_elem(&seen, &action);

	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

SEC("xdp")
int udp_guard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	char *p = (void *)(udp + 1);
	unsigned char mac[ETH_ALEN];
	__u32 addr;
	__u16 port;

	if ((void *)(p + 4) > data_end)
		return verdict(XDP_PASS);
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return verdict(XDP_PASS);
	if (p[0] == 'd' && p[1] == 'r' && p[2] == 'o' && p[3] == 'p')
		return verdict(XDP_DROP);
	if (p[0] == 'p' && p[1] == 'i' && p[2] == 'n' && p[3] == 'g') {
		__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		port = udp->source;
		udp->source = udp->dest;
		udp->dest = port;
		p[1] = 'o';
		udp->check = 0; /* no UDP checksum over IPv4 (RFC 768) after the rewrite */
		return verdict(XDP_TX);
	}
	return verdict(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
