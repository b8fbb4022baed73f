// SPDX-License-Identifier: GPL-2.0
/* Rejected: a global (non-static) function is verified once, on its own, with its
 * pointer argument typed from BTF as "memory of sizeof(int) bytes, or NULL"
 * (btf_prepare_func_args): dereferencing it without a NULL check is refused, even
 * though every caller passes a valid pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int next_of(int *p)
{
	return *p + 1;
}

SEC("xdp")
int global_ptr_unchecked(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return next_of(&x) > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
