// SPDX-License-Identifier: GPL-2.0
/* Broken on purpose: a ring buffer record is reserved, but one path
 * returns without submitting or discarding it. The verifier tracks the
 * reservation as a reference and refuses to let it leak. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int leak_record(struct xdp_md *ctx)
{
	__u32 *len = bpf_ringbuf_reserve(&events, sizeof(*len), 0);

	if (!len)
		return XDP_PASS;
	if (ctx->data_end - ctx->data < 64)
		return XDP_DROP; /* leaks the reserved record */
	*len = ctx->data_end - ctx->data;
	bpf_ringbuf_submit(len, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
