/* An exception callback returns the program's value: Linux holds it to the
 * program type's range (cgroup_skb's [0, 1]), which the cookie is not in. */
#include "exception_cb.h"

__noinline int throw_cb_ret_cb(__u64 cookie)
{
	return cookie;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_ret_cb)
int throw_cb_ret(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_ret_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
