/* A timer callback must return 0 (check_return_code's async callback case):
 * this one returns 1. Linux rejects it. */
#include "timer.h"

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	f->fired++;
	return 1;
}

SEC("tc")
int timer_cb_ret1(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return 0;
}
