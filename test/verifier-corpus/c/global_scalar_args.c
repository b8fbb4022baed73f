// SPDX-License-Identifier: GPL-2.0
/* Accepted: integer arguments of a global function are unknown numbers to it; the
 * caller bounds the (unknown) result before using it as an index. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
} bytes SEC(".maps");

__attribute__((noinline)) int mix(int a, long b)
{
	return (a ^ b) & 0xff;
}

SEC("xdp")
int global_scalar_args(struct xdp_md *ctx)
{
	__u32 key = 0;
	char *v = bpf_map_lookup_elem(&bytes, &key);
	if (!v)
		return XDP_PASS;
	unsigned int i = mix(ctx->ingress_ifindex, ctx->rx_queue_index);
	if (i >= 16)
		return XDP_DROP;
	return v[i];
}

char LICENSE[] SEC("license") = "GPL";
