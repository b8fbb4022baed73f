/* bpf_timer_init's map must be the one the timer lives in: the value is
 * from the array, the map given the hash. Linux rejects it. */
#include "timer.h"

SEC("tc")
int timer_wrong_map(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &hflows, CLOCK_MONOTONIC);
	return 0;
}
