/* A syscall program (run by BPF_PROG_TEST_RUN) arms an LRU hash element's
 * timer with an absolute expiry on the monotonic clock; the callback
 * counts in a global and cancels nothing. Linux accepts it. */
#include "timer.h"

__u64 expired;

static int flow_expired(void *map, __u32 *key, struct flow *f)
{
	__sync_fetch_and_add(&expired, 1);
	f->fired = bpf_ktime_get_ns();
	return 0;
}

SEC("syscall")
int timer_syscall(void *ctx)
{
	__u32 key = 7;
	struct flow init = {}, *f;

	bpf_map_update_elem(&lflows, &key, &init, BPF_ANY);
	f = bpf_map_lookup_elem(&lflows, &key);
	if (!f)
		return 1;
	if (bpf_timer_init(&f->timer, &lflows, CLOCK_MONOTONIC))
		return 2;
	bpf_timer_set_callback(&f->timer, flow_expired);
	return bpf_timer_start(&f->timer, bpf_ktime_get_ns() + 1000, 1 /* BPF_F_TIMER_ABS */);
}
