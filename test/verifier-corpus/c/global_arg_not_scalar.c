// SPDX-License-Identifier: GPL-2.0
/* Rejected: the caller passes a pointer where the global function's BTF
 * prototype says an integer (btf_check_func_arg_match: "R1 is not a scalar"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int low_bit(long x)
{
	return x & 1;
}

SEC("xdp")
int global_arg_not_scalar(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return low_bit((long)&x) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
