/* A timer callback cannot make a tail call: it has no context to pass
 * (R1 is the map), so bpf_tail_call's first argument is refused before
 * check_max_stack_depth's "subprog has tail_call and async cb" could
 * apply. Linux rejects it. */
#include "timer.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next SEC(".maps");

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	bpf_tail_call(map, &next, 0);
	return 0;
}

SEC("tc")
int timer_cb_tail_call(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_timer_init(&f->timer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&f->timer, flow_expired);
	return 0;
}
