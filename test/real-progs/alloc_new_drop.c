/* Allocate an object, write and read its fields, free it. */
#include "alloc.h"

SEC("tc")
int alloc_new_drop(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);
	__u64 v;

	if (!p)
		return 0;
	p->x = skb->len;
	p->y = 7;
	v = p->x + p->y + p->z;
	bpf_obj_drop(p);
	return v == 3;
}
