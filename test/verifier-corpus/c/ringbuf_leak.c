// SPDX-License-Identifier: GPL-2.0
/* Rejected: the ring buffer reservation is submitted on one path only; on
 * the other the program returns still holding it (a reference leak). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct event {
	__u32 len;
	__u32 ifindex;
};

SEC("xdp")
int ringbuf_leak(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	e->len = ctx->data_end - ctx->data;
	e->ifindex = ctx->ingress_ifindex;
	if (e->len < 64)
		return XDP_DROP;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
