// SPDX-License-Identifier: MIT
/*
 * An XDP program for UDP over IPv4 (for `tsbpf xdp --pcap` and the dgram
 * hook, src/hooks/packet/dgram.ts):
 *   - UDP to port 9 (discard): XDP_DROP;
 *   - UDP to port 7 (echo): answered in place — MACs, addresses and ports
 *     swapped — with XDP_TX;
 *   - any other UDP: the IPv4 TTL is decremented (checksum fixed
 *     incrementally, RFC 1624) and the packet passes;
 *   - anything else passes unchanged; runt frames are dropped.
 * `actions` counts verdicts by XDP action.
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
} actions SEC(".maps");

static __always_inline int verdict(__u32 action)
{
	__u64 *n = bpf_map_lookup_elem(&actions, &action);

	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	unsigned char mac[ETH_ALEN];
	__u32 addr;
	__u16 port;
	__u32 csum;

	if ((void *)(eth + 1) > data_end)
		return verdict(XDP_DROP);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return verdict(XDP_PASS);
	if (ip->protocol != IPPROTO_UDP)
		return verdict(XDP_PASS);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return verdict(XDP_DROP);

	if (udp->dest == bpf_htons(9))
		return verdict(XDP_DROP);
	if (udp->dest == bpf_htons(7)) {
		__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		port = udp->source;
		udp->source = udp->dest;
		udp->dest = port;
		return verdict(XDP_TX);
	}
	/* ttl is the high byte of the 16-bit word it shares with protocol. */
	if (ip->ttl <= 1)
		return verdict(XDP_DROP);
	ip->ttl--;
	csum = (__u32)ip->check + (__u32)bpf_htons(0x0100);
	ip->check = (__u16)(csum + (csum >= 0xffff));
	return verdict(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
