/* The timer argument must be a map value, not one that may be NULL: the
 * hash lookup's result is used unchecked (and the arithmetic that reaches
 * the timer field is refused first). Linux rejects it. */
#include "timer.h"

SEC("tc")
int timer_unchecked(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&hflows, &key);

	bpf_timer_init(&f->timer, &hflows, CLOCK_MONOTONIC);
	return 0;
}
