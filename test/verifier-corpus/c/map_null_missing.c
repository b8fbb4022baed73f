// SPDX-License-Identifier: GPL-2.0
/* Rejected: the value bpf_map_lookup_elem returns is used without a NULL check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("socket")
int map_null_missing(struct __sk_buff *skb)
{
	__u32 key = skb->protocol;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	*v += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
