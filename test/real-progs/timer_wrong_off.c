/* bpf_timer_init must be given the timer field's address: here the pointer
 * is the value's first field, 8 bytes before the timer. Linux rejects it. */
#include "timer.h"

SEC("tc")
int timer_wrong_off(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_timer_init((struct bpf_timer *)&f->fired, &flows, CLOCK_MONOTONIC);
	return 0;
}
