/* A static function called with the lock held updates the value. */
#include "spin_lock.h"

static __attribute__((noinline)) int bump(struct counter *v, __u32 len)
{
	v->packets++;
	v->bytes += len;
	return 0;
}

SEC("tc")
int spin_lock_subprog(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	bump(v, skb->len);
	bpf_spin_unlock(&v->lock);
	return 0;
}
