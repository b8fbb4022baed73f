/* A read past the object's struct is refused. */
#include "alloc.h"

SEC("tc")
int alloc_past_end(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);
	__u64 v;

	if (!p)
		return 0;
	v = *(volatile __u64 *)((char *)p + 16);
	bpf_obj_drop(p);
	return v;
}
