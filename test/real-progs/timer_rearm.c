/* A periodic timer in a hash: the callback reads its key, counts, and
 * re-arms itself (bpf_timer_set_callback and bpf_timer_start from inside
 * the callback); the program cancels it when asked to. Linux accepts it. */
#include "timer.h"

static int tick(void *map, __u32 *key, struct flow *f)
{
	f->fired += *key;
	if (f->fired < 100) {
		bpf_timer_set_callback(&f->timer, tick);
		bpf_timer_start(&f->timer, 1000, 0);
	}
	return 0;
}

SEC("tc")
int timer_rearm(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	struct flow init = {}, *f;

	if (skb->len == 0) {
		f = bpf_map_lookup_elem(&hflows, &key);
		if (f)
			bpf_timer_cancel(&f->timer);
		return 0;
	}
	bpf_map_update_elem(&hflows, &key, &init, BPF_NOEXIST);
	f = bpf_map_lookup_elem(&hflows, &key);
	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &hflows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, tick);
	bpf_timer_start(&f->timer, 1000, 0);
	return 0;
}
