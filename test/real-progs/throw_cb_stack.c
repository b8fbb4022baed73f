/* An exception callback runs on a stack of its own (check_max_stack_depth walks
 * it as a root, like an async callback): its 320 bytes and the program's 320
 * are not one chain of 640. */
#include "exception_cb.h"

__noinline int throw_cb_stack_cb(__u64 cookie)
{
	volatile char buf[320];
	buf[cookie & 255] = 1;
	return buf[7] & 1;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_stack_cb)
int throw_cb_stack(struct __sk_buff *skb)
{
	volatile char buf[320];
	KEEP_EXCEPTION_CB(throw_cb_stack_cb);
	buf[skb->len & 255] = 1;
	if (skb->len < 20)
		bpf_throw(0);
	return buf[3] & 1;
}
