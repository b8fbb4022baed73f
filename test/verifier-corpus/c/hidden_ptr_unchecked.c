// SPDX-License-Identifier: GPL-2.0
/* Accepted: the function of global_ptr_unchecked.c, made __hidden (visibility
 * hidden, as libbpf's usdt.bpf.h declares its helpers). Nothing outside the
 * object can call it, so libbpf marks its BTF linkage static before loading
 * and the kernel verifies it with its caller's state: the caller's pointer is
 * valid, so the unchecked read is fine. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) __attribute__((visibility("hidden"))) int next_of(int *p)
{
	return *p + 1;
}

SEC("xdp")
int hidden_ptr_unchecked(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return next_of(&x) > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
