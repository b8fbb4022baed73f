/* The lock taken on one arm of a branch and released under a second test
 * of the same (re-read) condition: a path ends holding it. The states at the
 * join differ only in the lock held, so they must not be pruned together.
 * Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_cond(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	if (skb->len > 100)
		bpf_spin_lock(&v->lock);
	v->packets++;
	if (skb->len > 100)
		bpf_spin_unlock(&v->lock);
	return 0;
}
