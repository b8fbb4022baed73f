/* The lock taken only on an unlikely path that rejoins the common one: the
 * common path (explored first) ends with no lock held, the other reaches the
 * same instructions holding it. Were states compared without the lock, the
 * second would be pruned there and the program accepted. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_prune(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	if (__builtin_expect(skb->len > 100, 0))
		bpf_spin_lock(&v->lock);
	v->packets++;
	return 0;
}
