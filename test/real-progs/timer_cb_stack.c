/* An async callback runs on a stack of its own: the program's 400 bytes
 * and the callback's 400 are not one chain (check_max_stack_depth). Linux
 * accepts it. */
#include "timer.h"

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	volatile char buf[400] = {};

	buf[f->seen & 255] = 1;
	f->fired += buf[3];
	return 0;
}

SEC("tc")
int timer_cb_stack(struct __sk_buff *skb)
{
	volatile char buf[400] = {};
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	buf[skb->len & 255] = 1;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return buf[7];
}
