// SPDX-License-Identifier: GPL-2.0
/* Accepted: the global function checks its pointer argument for NULL before
 * reading the sizeof(int) bytes its BTF type promises. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int next_of(int *p)
{
	if (!p)
		return 0;
	return *p + 1;
}

SEC("xdp")
int global_ptr_checked(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return next_of(&x) > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
