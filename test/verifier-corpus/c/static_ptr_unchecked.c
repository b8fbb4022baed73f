// SPDX-License-Identifier: GPL-2.0
/* Accepted: the same function made static is verified at each call with the
 * caller's registers, so the pointer is known to be the caller's stack slot. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int next_of(int *p)
{
	return *p + 1;
}

SEC("xdp")
int static_ptr_unchecked(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return next_of(&x) > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
