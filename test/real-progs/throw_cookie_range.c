/* bpf_throw(cookie) with the default exception callback in a cgroup_skb
 * program: the cookie becomes the return value, so Linux holds it to the
 * program type's [0, 1] (check_return_code on R1): 2 is refused. */
#include "real.h"

extern void bpf_throw(__u64 cookie) __ksym;

SEC("cgroup_skb/ingress")
int throw_cookie_range(struct __sk_buff *skb)
{
	if (skb->len < 20)
		bpf_throw(2);
	return 1;
}
