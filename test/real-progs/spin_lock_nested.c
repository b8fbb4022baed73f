/* The lock inside a nested struct of an array value (at offset 12). Linux
 * accepts it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_nested(struct __sk_buff *skb)
{
	__u32 key = 1;
	struct guarded *g = bpf_map_lookup_elem(&guards, &key);

	if (!g)
		return 0;
	bpf_spin_lock(&g->inner.lock);
	g->total += skb->len;
	g->inner.flags |= 1;
	bpf_spin_unlock(&g->inner.lock);
	return 0;
}
