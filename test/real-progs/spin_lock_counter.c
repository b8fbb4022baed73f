/* A per-key counter updated under its value's lock: lookup, NULL check,
 * bpf_spin_lock(&v->lock), two fields updated, bpf_spin_unlock. Linux
 * accepts it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_counter(struct __sk_buff *skb)
{
	__u32 key = skb->protocol;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->packets++;
	v->bytes += skb->len;
	bpf_spin_unlock(&v->lock);
	return 0;
}
