/* Returning with the lock held on one path. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_exit_locked(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	if (skb->len > 1000)
		return 1;
	v->packets++;
	bpf_spin_unlock(&v->lock);
	return 0;
}
