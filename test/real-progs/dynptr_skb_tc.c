/* A tc classifier that parses headers through an skb dynptr: bpf_dynptr_from_skb, then
 * bpf_dynptr_slice for the Ethernet and IPv4 headers (a copy into the buffer when the bytes are
 * not linear), and drops IPv4 packets with a TTL of 1. */
#include "real.h"
#include "dynptr.h"

struct eth { __u8 dst[6], src[6]; __u16 proto; };
struct ip4 { __u8 vihl, tos; __u16 len, id, frag; __u8 ttl, proto; __u16 csum; __u32 saddr, daddr; };

SEC("tc")
int dynptr_skb_tc(struct __sk_buff *skb)
{
	struct eth eth_buf;
	struct ip4 ip_buf;
	struct bpf_dynptr d;
	const struct eth *eth;
	const struct ip4 *ip;

	if (bpf_dynptr_from_skb(skb, 0, &d))
		return 0;
	eth = bpf_dynptr_slice(&d, 0, &eth_buf, sizeof(eth_buf));
	if (!eth || eth->proto != __builtin_bswap16(0x0800))
		return 0;
	ip = bpf_dynptr_slice(&d, sizeof(*eth), &ip_buf, sizeof(ip_buf));
	if (!ip)
		return 0;
	return ip->ttl == 1 ? 2 : 0;
}
