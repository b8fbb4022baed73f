/* A value without a struct bpf_timer cannot hold a timer. Linux rejects it. */
#include "timer.h"

SEC("tc")
int timer_no_timer(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&untimed, &key);

	if (!v)
		return 0;
	bpf_timer_init((struct bpf_timer *)v, &untimed, CLOCK_MONOTONIC);
	return 0;
}
