// SPDX-License-Identifier: GPL-2.0
/* Global function arguments are memory the callee may read and write: a
 * pointer into read-only .rodata does not match an int * parameter. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int limit = 7;

__attribute__((noinline)) int read_it(const int *p)
{
	if (!p)
		return 0;
	return *p;
}

SEC("xdp")
int global_rodata_arg(struct xdp_md *ctx)
{
	const int *p = (const int *)&limit;

	asm volatile("" : "+r"(p)); /* keep clang from folding the call */
	return read_it(p) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
