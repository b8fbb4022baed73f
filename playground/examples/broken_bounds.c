// SPDX-License-Identifier: GPL-2.0
/* Broken on purpose: the program checks that the IPv4 header fits in the
 * packet, then reads the TCP destination port behind it without checking
 * that the TCP header fits too. The verifier refuses the read. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int drop_http(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	/* missing: if ((void *)(tcp + 1) > data_end) return XDP_PASS; */
	return tcp->dest == bpf_htons(80) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
