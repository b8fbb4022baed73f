// SPDX-License-Identifier: GPL-2.0
/* Accepted: Linux 6.18 lets a program call a global function with preemption
 * disabled (bpf_preempt_disable kfunc) when the function cannot sleep; 6.12
 * refused it ("global function calls are not allowed with preemption disabled"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_preempt_disable(void) __ksym;
extern void bpf_preempt_enable(void) __ksym;

__attribute__((noinline)) int half(unsigned int x)
{
	return x >> 1;
}

SEC("xdp")
int global_in_preempt(struct xdp_md *ctx)
{
	int r;

	bpf_preempt_disable();
	r = half(ctx->ingress_ifindex);
	bpf_preempt_enable();
	return r > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
