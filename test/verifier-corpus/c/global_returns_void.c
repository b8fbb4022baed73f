// SPDX-License-Identifier: GPL-2.0
/* Rejected: Linux verifies only global functions that return an integer
 * ("Global function bump() doesn't return scalar. Only those are supported."). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) void bump(int *p)
{
	if (p)
		*p += 1;
}

SEC("xdp")
int global_returns_void(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	bump(&x);
	return x > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
