/* The callback may not touch the timer's bytes either. Linux rejects it. */
#include "timer.h"

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	*(volatile __u64 *)&f->timer = 0;
	return 0;
}

SEC("xdp")
int timer_cb_timer_word(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return XDP_PASS;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return XDP_PASS;
}
