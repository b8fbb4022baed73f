// SPDX-License-Identifier: GPL-2.0
/* Rejected: a global function's return value is an unknown number to its caller
 * (check_func_call: "All global functions return a 64-bit SCALAR_VALUE"), so
 * indexing a map value with it needs a bounds check, whatever the function returns. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} bytes SEC(".maps");

__attribute__((noinline)) int slot(int x)
{
	return x & 7;
}

SEC("xdp")
int global_ret_unknown(struct xdp_md *ctx)
{
	__u32 key = 0;
	char *v = bpf_map_lookup_elem(&bytes, &key);
	if (!v)
		return XDP_PASS;
	return v[slot(ctx->rx_queue_index)];
}

char LICENSE[] SEC("license") = "GPL";
