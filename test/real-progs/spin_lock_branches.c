/* The lock taken and released on both arms of a branch, the value pointer
 * copied through the stack: the states after the branch hold no lock.
 * Linux accepts it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_branches(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);
	struct counter *volatile w;

	if (!v)
		return 0;
	w = v;
	if (skb->len > 100) {
		bpf_spin_lock(&v->lock);
		v->bytes += skb->len;
		bpf_spin_unlock(&w->lock);
	} else {
		bpf_spin_lock(&w->lock);
		v->packets++;
		bpf_spin_unlock(&v->lock);
	}
	return 0;
}
