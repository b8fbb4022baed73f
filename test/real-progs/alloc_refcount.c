/* bpf_refcount_acquire of an owning reference: a second reference, never NULL; both are dropped. */
#include "alloc.h"

SEC("tc")
int alloc_refcount(struct __sk_buff *skb)
{
	struct counted *a = bpf_obj_new(struct counted), *b;

	if (!a)
		return 0;
	a->value = 5;
	a->tail = 1;
	b = bpf_refcount_acquire(a);
	b->value += 1;
	bpf_obj_drop(a);
	bpf_obj_drop(b);
	return 0;
}
