/* A callback ends like a program: what it reserved it must release. This
 * one reserves ring buffer space and returns without submitting it. Linux
 * rejects it. */
#include "timer.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} expirations SEC(".maps");

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	__u64 *e = bpf_ringbuf_reserve(&expirations, 8, 0);

	if (e)
		*e = f->seen;
	return 0;
}

SEC("tc")
int timer_cb_leak(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return 0;
}
