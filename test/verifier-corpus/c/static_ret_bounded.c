// SPDX-License-Identifier: GPL-2.0
/* Accepted: the same function made static is followed into, so its result is
 * known to be in 0..7 and the map value read stays in bounds. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} bytes SEC(".maps");

static __attribute__((noinline)) int slot(int x)
{
	return x & 7;
}

SEC("xdp")
int static_ret_bounded(struct xdp_md *ctx)
{
	__u32 key = 0;
	char *v = bpf_map_lookup_elem(&bytes, &key);
	if (!v)
		return XDP_PASS;
	return v[slot(ctx->rx_queue_index)];
}

char LICENSE[] SEC("license") = "GPL";
