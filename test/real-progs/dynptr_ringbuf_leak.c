/* The reservation's failure path forgets the discard: the ringbuf dynptr still holds its
 * reference there, and Linux refuses the program. */
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} records SEC(".maps");

SEC("xdp")
int dynptr_ringbuf_leak(struct xdp_md *ctx)
{
	__u64 v = ctx->ingress_ifindex;
	struct bpf_dynptr rb;

	if (bpf_ringbuf_reserve_dynptr(&records, sizeof(v), 0, &rb))
		return XDP_PASS;
	bpf_dynptr_write(&rb, 0, &v, sizeof(v), 0);
	bpf_ringbuf_submit_dynptr(&rb, 0);
	return XDP_PASS;
}
