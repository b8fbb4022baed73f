// SPDX-License-Identifier: GPL-2.0
/* Accepted: a global function whose argument is the program's context type
 * (struct xdp_md *) receives a PTR_TO_CTX and may parse the packet through it. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int is_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return 0;
	return eth->h_proto == __builtin_bswap16(ETH_P_IP);
}

SEC("xdp")
int global_ctx_arg(struct xdp_md *ctx)
{
	return is_ipv4(ctx) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
