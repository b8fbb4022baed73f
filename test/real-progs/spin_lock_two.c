/* Two locks at once (two values of the same map). Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_two(struct __sk_buff *skb)
{
	__u32 k1 = 1, k2 = 2;
	struct counter *a = bpf_map_lookup_elem(&counters, &k1);
	struct counter *b = bpf_map_lookup_elem(&counters, &k2);

	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	a->packets++;
	b->packets++;
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}
