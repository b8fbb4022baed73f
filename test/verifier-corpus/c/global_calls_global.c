// SPDX-License-Identifier: GPL-2.0
/* Accepted: global functions calling global functions are each verified once,
 * on their own, after the program that calls them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int inner(int *p)
{
	return p ? *p & 15 : 0;
}

__attribute__((noinline)) int outer(int *p)
{
	int y = 3;
	return inner(p) + inner(&y);
}

SEC("xdp")
int global_calls_global(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return outer(&x) > 6 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
