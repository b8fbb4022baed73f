/* An object bpf_obj_new may not have allocated is no bpf_kptr_xchg destination. */
#include "kptr_obj.h"

SEC("tc")
int kptr_obj_maybe_null(struct __sk_buff *skb)
{
	struct holder *h = bpf_obj_new(struct holder);
	struct point *p = bpf_obj_new(struct point), *old;

	if (!p) {
		if (h)
			bpf_obj_drop(h);
		return 0;
	}
	old = bpf_kptr_xchg(&h->p, p);
	if (old)
		bpf_obj_drop(old);
	if (h)
		bpf_obj_drop(h);
	return 0;
}
