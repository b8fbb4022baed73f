// SPDX-License-Identifier: GPL-2.0
/* Broken on purpose: bpf_map_lookup_elem returns NULL when the key is not
 * in the map, and this program uses the result without checking it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int count_unchecked(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 *count = bpf_map_lookup_elem(&seen, &key);

	*count += 1; /* missing: if (!count) return XDP_PASS; */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
