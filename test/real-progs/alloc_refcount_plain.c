/* bpf_refcount_acquire wants a struct with a struct bpf_refcount. */
#include "alloc.h"

SEC("tc")
int alloc_refcount_plain(struct __sk_buff *skb)
{
	struct point *a = bpf_obj_new(struct point), *b;

	if (!a)
		return 0;
	b = bpf_refcount_acquire(a);
	if (b)
		bpf_obj_drop(b);
	bpf_obj_drop(a);
	return 0;
}
