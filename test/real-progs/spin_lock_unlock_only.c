/* bpf_spin_unlock without bpf_spin_lock. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_unlock_only(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_unlock(&v->lock);
	return 0;
}
