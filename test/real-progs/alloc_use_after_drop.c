/* A freed object is gone: every copy of its pointer becomes unusable. */
#include "alloc.h"

SEC("tc")
int alloc_use_after_drop(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_obj_drop(p);
	asm volatile("" ::: "memory");
	return *(volatile __u64 *)&p->x;
}
