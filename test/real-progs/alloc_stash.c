/* Stash an object in a map (bpf_kptr_xchg), take the previous one out and free it. */
#include "alloc.h"

SEC("tc")
int alloc_stash(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct stash *s = bpf_map_lookup_elem(&stashes, &key);
	struct tree_item *n, *old;

	if (!s)
		return 0;
	n = bpf_obj_new(struct tree_item);
	if (!n)
		return 0;
	n->key = skb->len;
	old = bpf_kptr_xchg(&s->item, n);
	if (old)
		bpf_obj_drop(old);
	return 0;
}
