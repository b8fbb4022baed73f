// SPDX-License-Identifier: GPL-2.0
/* Rejected: the global function may move the packet (bpf_xdp_adjust_head), so
 * every packet pointer the caller holds is invalid after the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int pop(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 4);
}

SEC("xdp")
int global_changes_pkt(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	if (data + 1 > end)
		return XDP_PASS;
	pop(ctx);
	return data[0];
}

char LICENSE[] SEC("license") = "GPL";
