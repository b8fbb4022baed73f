/* An object never freed: the reference leaks at exit. */
#include "alloc.h"

SEC("tc")
int alloc_leak(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	p->x = 1;
	return 1;
}
