// SPDX-License-Identifier: GPL-2.0
/* Accepted: a global function may write the memory its pointer argument names
 * (after a NULL check); the caller's buffer is then initialised. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { __u32 a, b; };

__attribute__((noinline)) int fill(struct pair *p, int v)
{
	if (!p)
		return -1;
	p->a = v;
	p->b = v + 1;
	return 0;
}

SEC("xdp")
int global_writes_arg(struct xdp_md *ctx)
{
	struct pair q;

	if (fill(&q, ctx->ingress_ifindex))
		return XDP_ABORTED;
	return q.a + q.b > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
