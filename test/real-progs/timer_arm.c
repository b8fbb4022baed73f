/* The common use: look the value up, bpf_timer_init on its timer with the
 * map it lives in, set a callback that counts in the value, start it
 * 1 ms from now. Linux accepts it. */
#include "timer.h"

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	f->fired++;
	return 0;
}

SEC("tc")
int timer_arm(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	f->seen++;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	bpf_timer_start(&f->timer, 1000000, 0);
	return 0;
}
