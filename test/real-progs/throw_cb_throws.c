/* An exception callback may not throw: check_max_stack_depth counts it a callback. */
#include "exception_cb.h"

__noinline int throw_cb_throws_cb(__u64 cookie)
{
	if (cookie > 1)
		bpf_throw(0);
	return cookie;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_throws_cb)
int throw_cb_throws(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_throws_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
