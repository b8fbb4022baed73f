/* An exception callback takes exactly one integer, the cookie: not the context. */
#include "exception_cb.h"

__noinline int throw_cb_ctx_arg_cb(struct __sk_buff *skb)
{
	return skb->len & 1;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_ctx_arg_cb)
int throw_cb_ctx_arg(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_ctx_arg_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
