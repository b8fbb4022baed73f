/* A kptr field takes objects of its own struct only. */
#include "alloc.h"

SEC("tc")
int alloc_stash_wrong_type(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct stash *s = bpf_map_lookup_elem(&stashes, &key);
	struct tree_item *n;
	struct point *p, *old;

	if (!s)
		return 0;
	/* (an object of the field's struct, so that its BTF is no FWD) */
	n = bpf_obj_new(struct tree_item);
	if (!n)
		return 0;
	bpf_obj_drop(n);
	p = bpf_obj_new(struct point);
	if (!p)
		return 0;
	old = bpf_kptr_xchg(&s->item, p);
	if (old)
		bpf_obj_drop(old);
	return 0;
}
