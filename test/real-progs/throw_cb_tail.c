/* No tail call below an exception callback (check_max_stack_depth). */
#include "exception_cb.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} throw_cb_tail_progs SEC(".maps");

/* (the callback has no context to tail-call with: the call is on a path the
 * verifier knows is dead, which the static walk still counts) */
static __noinline int tail(__u64 never, void *ctx)
{
	if (never)
		bpf_tail_call(ctx, &throw_cb_tail_progs, 0);
	return 0;
}

__noinline int throw_cb_tail_cb(__u64 cookie)
{
	__u64 zero;

	asm volatile("%0 = 0" : "=r"(zero));
	return tail(zero, (void *)0) & 1;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_tail_cb)
int throw_cb_tail(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_tail_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
