/* bpf_obj_drop takes the object's own pointer, not one into it. */
#include "alloc.h"

SEC("tc")
int alloc_drop_field(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_obj_drop(&p->y);
	return 0;
}
