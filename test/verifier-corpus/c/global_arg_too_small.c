// SPDX-License-Identifier: GPL-2.0
/* Rejected: the global function takes a pointer to 32 bytes; the caller's map
 * value has 8, so the memory the prototype promises is not there (check_mem_reg). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stats { __u64 n[4]; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} small SEC(".maps");

__attribute__((noinline)) int total(struct stats *s)
{
	if (!s)
		return 0;
	return s->n[0] + s->n[3];
}

SEC("xdp")
int global_arg_too_small(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&small, &key);
	if (!v)
		return XDP_PASS;
	return total((struct stats *)v) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
