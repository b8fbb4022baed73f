// SPDX-License-Identifier: GPL-2.0
/* bpf-to-bpf call: a static function, not inlined, parses the IPv4 header
 * and returns the protocol. The callee runs in its own 512-byte stack frame
 * and the verifier checks it with the caller's argument types. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

static __noinline int ip_protocol(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	return ip->protocol;
}

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
	int proto = ip_protocol((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u32 key;
	__u64 *count;

	if (proto < 0)
		return XDP_PASS;
	key = proto;
	count = bpf_map_lookup_elem(&proto_count, &key);
	if (count)
		*count += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
