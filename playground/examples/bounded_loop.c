// SPDX-License-Identifier: GPL-2.0
/* Bounded loop: sum the first 16 payload bytes after the Ethernet header.
 * The verifier walks the loop and must see it end: the bound is a constant
 * and every packet read is checked against data_end inside the loop. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#define MAX_BYTES 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} byte_sum SEC(".maps");

SEC("xdp")
int sum_bytes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + sizeof(struct ethhdr);
	__u64 sum = 0;
	__u32 key = 0;
	__u64 *out;

	for (int i = 0; i < MAX_BYTES; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		sum += p[i];
	}
	out = bpf_map_lookup_elem(&byte_sum, &key);
	if (out)
		*out = sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
