// SPDX-License-Identifier: GPL-2.0
/* Rejected: a map value that may be NULL is passed for an __arg_nonnull argument
 * ("arg#0 is expected to be non-NULL"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, int);
} vals SEC(".maps");

__attribute__((noinline)) int twice(int *p __attribute__((btf_decl_tag("arg:nonnull"))))
{
	return *p * 2;
}

SEC("xdp")
int global_nonnull_maybe_null(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	int *v = bpf_map_lookup_elem(&vals, &key);
	return twice(v) > 6 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
