/* bpf_throw(cookie) with the default exception callback: the program ends at
 * the throw and returns the cookie (here a cgroup_skb verdict, held to its
 * [0, 1] range). tsbpf judges it as Linux does and refuses to run it: it does
 * not unwind (src/verifier/throw.ts). */
#include "real.h"

extern void bpf_throw(__u64 cookie) __ksym;

SEC("cgroup_skb/ingress")
int throw_cookie(struct __sk_buff *skb)
{
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
