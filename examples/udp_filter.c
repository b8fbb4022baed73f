// SPDX-License-Identifier: MIT
/*
 * A socket filter for a UDP socket (src/hooks/packet/socket-filter.ts, or
 * SO_ATTACH_BPF on Linux): the packet starts at the UDP header and skb->len
 * is the UDP length. Datagrams whose payload starts with '#' are dropped
 * (return 0); the others are cut to at most 8 payload bytes (return the
 * header length + 8).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int udp_filter(struct __sk_buff *skb)
{
	__u8 first;
	const __u32 hdrs = sizeof(struct udphdr);

	if (skb->len <= hdrs)
		return skb->len;
	if (bpf_skb_load_bytes(skb, hdrs, &first, 1) < 0)
		return 0;
	if (first == '#')
		return 0;
	return hdrs + 8;
}

char LICENSE[] SEC("license") = "GPL";
