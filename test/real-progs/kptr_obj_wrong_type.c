/* A kptr field of an object takes objects of its own struct only. */
#include "kptr_obj.h"

SEC("tc")
int kptr_obj_wrong_type(struct __sk_buff *skb)
{
	struct holder *h = bpf_obj_new(struct holder);
	struct counted *c;
	struct point *p, *old;

	if (!h)
		return 0;
	/* (an object of the field's struct, so that its BTF is no FWD) */
	p = bpf_obj_new(struct point);
	if (p)
		bpf_obj_drop(p);
	c = bpf_obj_new(struct counted);
	if (!c) {
		bpf_obj_drop(h);
		return 0;
	}
	old = bpf_kptr_xchg(&h->p, (struct point *)c);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(h);
	return 0;
}
