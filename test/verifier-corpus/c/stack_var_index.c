// SPDX-License-Identifier: GPL-2.0
/* Rejected: an index from the packet, masked to 0..63, into a 16-byte stack
 * array: the verifier sees a variable stack offset past the array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int stack_var_index(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	volatile __u8 table[16] = { 0 };
	__u8 *p = data;
	if ((void *)(p + 1) > data_end)
		return XDP_PASS;
	__u32 idx = *p & 63;
	table[idx] = 1;
	return table[0];
}

char LICENSE[] SEC("license") = "GPL";
