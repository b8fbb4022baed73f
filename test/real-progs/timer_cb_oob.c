/* The callback's value is the map's value, as large as the map says: a
 * write past it is refused as in any program. Linux rejects it. */
#include "timer.h"

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	((__u64 *)f)[4] = 1;
	return 0;
}

SEC("tc")
int timer_cb_oob(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&lflows, &key);

	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &lflows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return 0;
}
