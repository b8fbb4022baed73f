/* An exception callback (__exception_cb): Linux verifies it after the program,
 * as a function of its own with R1 the cookie, and holds what it returns to the
 * program type's range (here cgroup_skb's [0, 1]); the cookie thrown need not
 * be in that range. tsbpf judges it so (src/verifier/exception-entry.ts) and
 * refuses to run it: it does not unwind. */
#include "exception_cb.h"

__noinline int throw_cb_cb(__u64 cookie)
{
	return cookie & 1;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_cb)
int throw_cb(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_cb);
	if (skb->len < 20)
		bpf_throw(7);
	return 1;
}
