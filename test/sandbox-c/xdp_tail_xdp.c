// SPDX-License-Identifier: GPL-2.0
/* The control for xdp_tail_tc.c: the same statically initialised prog array,
 * but the slot holds another XDP program. Linux loads it (the owner and the
 * slot agree on type, expected attach type and JIT status). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int xdp_target(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = {
		[0] = (void *)&xdp_target,
	},
};

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
