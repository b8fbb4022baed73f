/* Stash an object in a kptr field of another object, then free both (the holder's drop frees its kptr). */
#include "kptr_obj.h"

SEC("tc")
int kptr_obj_xchg(struct __sk_buff *skb)
{
	struct holder *h = bpf_obj_new(struct holder);
	struct point *p, *old;

	if (!h)
		return 0;
	p = bpf_obj_new(struct point);
	if (!p) {
		bpf_obj_drop(h);
		return 0;
	}
	p->x = skb->len;
	old = bpf_kptr_xchg(&h->p, p);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(h);
	return 0;
}
