/* bpf_kptr_xchg's destination inside an object must be a kptr field. */
#include "kptr_obj.h"

SEC("tc")
int kptr_obj_not_kptr(struct __sk_buff *skb)
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
	old = bpf_kptr_xchg(&h->v, p);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(h);
	return 0;
}
