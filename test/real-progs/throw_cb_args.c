/* An exception callback takes exactly one integer, the cookie. */
#include "exception_cb.h"

__noinline int throw_cb_args_cb(__u64 cookie, __u64 more)
{
	return (cookie + more) & 1;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_args_cb)
int throw_cb_args(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_args_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
