/* bpf_obj_new may return NULL: writing before the check is refused. */
#include "alloc.h"

SEC("tc")
int alloc_unchecked(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);

	p->x = 1;
	bpf_obj_drop(p);
	return 0;
}
