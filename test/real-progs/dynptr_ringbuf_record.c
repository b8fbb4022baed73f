/* A variable-length ring buffer record through a ringbuf dynptr: the header, then as much of
 * the packet as the snap length allows, copied with bpf_dynptr_write; a failed reservation is
 * still discarded, as the kernel requires of every reserved dynptr. */
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} records SEC(".maps");

struct rec_hdr {
	__u32 len;
	__u32 snap;
};

SEC("xdp")
int dynptr_ringbuf_record(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct rec_hdr hdr = { .len = (__u32)(end - p) };
	unsigned char snap[32];
	struct bpf_dynptr rb;

	hdr.snap = hdr.len < sizeof(snap) ? hdr.len : sizeof(snap);
	if (p + sizeof(snap) <= end)
		__builtin_memcpy(snap, p, sizeof(snap));
	else
		__builtin_memset(snap, 0, sizeof(snap));
	if (bpf_ringbuf_reserve_dynptr(&records, sizeof(hdr) + hdr.snap, 0, &rb)) {
		bpf_ringbuf_discard_dynptr(&rb, 0);
		return XDP_PASS;
	}
	if (bpf_dynptr_write(&rb, 0, &hdr, sizeof(hdr), 0) ||
	    bpf_dynptr_write(&rb, sizeof(hdr), snap, hdr.snap & 31, 0)) {
		bpf_ringbuf_discard_dynptr(&rb, 0);
		return XDP_PASS;
	}
	bpf_ringbuf_submit_dynptr(&rb, 0);
	return XDP_PASS;
}
