/* A global function called with the lock held. */
#include "spin_lock.h"

__attribute__((noinline)) int count_len(__u32 len)
{
	return len > 100;
}

SEC("tc")
int spin_lock_global_call(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->packets += count_len(skb->len);
	bpf_spin_unlock(&v->lock);
	return 0;
}
