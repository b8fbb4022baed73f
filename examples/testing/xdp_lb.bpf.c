// An XDP load balancer: TCP and UDP to the virtual IP (IPv4 or IPv6) go to
// a backend picked by the flow's hash; its MAC address is written into the
// frame and the packet is sent back out (XDP_TX). Everything else passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NUM_BACKENDS 4

struct backend {
	unsigned char mac[ETH_ALEN];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NUM_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NUM_BACKENDS);
	__type(key, __u32);
	__type(value, __u64);
} picked SEC(".maps");

/* the virtual IPs: 10.0.0.100 and 2001:db8::100 */
#define VIP4 bpf_htonl(0x0a000064)
static const __u8 vip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x01, [15] = 0x00 };

static __always_inline __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1;
	return h ^ (h >> 15);
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	__u32 h = 0;
	__u8 proto;
	void *l4;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->daddr != VIP4)
			return XDP_PASS;
		proto = ip->protocol;
		h = mix(mix(h, ip->saddr), ip->daddr);
		l4 = ip + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		for (int i = 0; i < 16; i++)
			if (ip6->daddr.in6_u.u6_addr8[i] != vip6[i])
				return XDP_PASS;
		proto = ip6->nexthdr;
		for (int i = 0; i < 4; i++)
			h = mix(h, ip6->saddr.in6_u.u6_addr32[i]);
		l4 = ip6 + 1;
	} else {
		return XDP_PASS;
	}
	__u16 sport, dport;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return XDP_PASS;
		sport = tcp->source;
		dport = tcp->dest;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return XDP_PASS;
		sport = udp->source;
		dport = udp->dest;
	} else {
		return XDP_PASS;
	}
	h = mix(mix(h, ((__u32)sport << 16) | dport), proto);
	__u32 idx = h % NUM_BACKENDS;
	struct backend *b = bpf_map_lookup_elem(&backends, &idx);
	if (!b)
		return XDP_ABORTED;
	__u64 *n = bpf_map_lookup_elem(&picked, &idx);
	if (n)
		__sync_fetch_and_add(n, 1);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, b->mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
