/* An exception callback may not tail-call itself either: when the program refers
 * to it (as here, for libbpf 1.1), check_max_stack_depth finds a tail call in an
 * async callback, which Linux 6.18 reports as a verifier bug (EFAULT). */
#include "exception_cb.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} throw_cb_own_tail_progs SEC(".maps");

__noinline int throw_cb_own_tail_cb(__u64 cookie)
{
	__u64 zero;

	asm volatile("%0 = 0" : "=r"(zero));
	if (zero)
		bpf_tail_call((void *)0, &throw_cb_own_tail_progs, 0);
	return 0;
}

SEC("cgroup_skb/ingress")
__exception_cb(throw_cb_own_tail_cb)
int throw_cb_own_tail(struct __sk_buff *skb)
{
	KEEP_EXCEPTION_CB(throw_cb_own_tail_cb);
	if (skb->len < 20)
		bpf_throw(0);
	return 1;
}
