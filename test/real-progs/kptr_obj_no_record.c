/* An object whose struct has no kptr is no bpf_kptr_xchg destination. */
#include "kptr_obj.h"

SEC("tc")
int kptr_obj_no_record(struct __sk_buff *skb)
{
	struct point *pt = bpf_obj_new(struct point);
	struct point *old;

	if (!pt)
		return 0;
	old = bpf_kptr_xchg((void *)pt, NULL);
	if (old)
		bpf_obj_drop(old);
	bpf_obj_drop(pt);
	return 0;
}
