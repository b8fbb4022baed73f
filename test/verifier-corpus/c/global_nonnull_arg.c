// SPDX-License-Identifier: GPL-2.0
/* Accepted: an argument tagged __arg_nonnull (btf_decl_tag("arg:nonnull")) is
 * memory the callee may use without a NULL check; the caller must pass non-NULL. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int twice(int *p __attribute__((btf_decl_tag("arg:nonnull"))))
{
	return *p * 2;
}

SEC("xdp")
int global_nonnull_arg(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;
	return twice(&x) > 6 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
