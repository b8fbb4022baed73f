/* The program may not call its exception callback itself. */
#include "exception_cb.h"

__noinline int throw_cb_direct_cb(__u64 cookie)
{
	return cookie & 1;
}

SEC("tc")
__exception_cb(throw_cb_direct_cb)
int throw_cb_direct(struct __sk_buff *skb)
{
	if (skb->len < 20)
		bpf_throw(0);
	return throw_cb_direct_cb(skb->len);
}
