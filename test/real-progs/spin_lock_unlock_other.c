/* The lock of one value taken, another value's released. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_unlock_other(struct __sk_buff *skb)
{
	__u32 k1 = 1, k2 = 2;
	struct counter *a = bpf_map_lookup_elem(&counters, &k1);
	struct counter *b = bpf_map_lookup_elem(&counters, &k2);

	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	a->packets++;
	bpf_spin_unlock(&b->lock);
	return 0;
}
