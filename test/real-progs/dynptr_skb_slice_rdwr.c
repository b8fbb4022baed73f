/* A tc classifier that rewrites the IPv4 TTL in place through a writable slice
 * (bpf_dynptr_slice_rdwr); tc programs may write packet data. */
#include "real.h"
#include "dynptr.h"

struct ip4 { __u8 vihl, tos; __u16 len, id, frag; __u8 ttl, proto; __u16 csum; __u32 saddr, daddr; };

SEC("tc")
int dynptr_skb_slice_rdwr(struct __sk_buff *skb)
{
	struct ip4 buf;
	struct bpf_dynptr d;
	struct ip4 *ip;

	if (bpf_dynptr_from_skb(skb, 0, &d))
		return 0;
	ip = bpf_dynptr_slice_rdwr(&d, 14, &buf, sizeof(buf));
	if (!ip)
		return 0;
	if (ip->ttl > 1)
		ip->ttl--;
	return 0;
}
