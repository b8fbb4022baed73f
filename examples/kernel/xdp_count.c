// SPDX-License-Identifier: GPL-2.0
/* Count packets and bytes per IP protocol on an interface (XDP). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counter);
} by_proto SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 proto = 0; /* 0: not IPv4 */

	if ((void *)(ip + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IP))
		proto = ip->protocol;
	struct counter *c = bpf_map_lookup_elem(&by_proto, &proto);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
