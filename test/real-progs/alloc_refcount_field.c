/* The struct bpf_refcount inside an object is the kernel's: no direct access. */
#include "alloc.h"

SEC("tc")
int alloc_refcount_field(struct __sk_buff *skb)
{
	struct counted *a = bpf_obj_new(struct counted);
	__u32 v;

	if (!a)
		return 0;
	v = *(volatile __u32 *)&a->ref;
	bpf_obj_drop(a);
	return v;
}
