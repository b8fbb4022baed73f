/* bpf_obj_drop frees what bpf_refcount_acquire counted too; the fields around the count are the program's. */
#include "alloc.h"

SEC("tc")
int alloc_refcount_field_write(struct __sk_buff *skb)
{
	struct counted *a = bpf_obj_new(struct counted);

	if (!a)
		return 0;
	/* 4 bytes over the end of value: into the bpf_refcount */
	*(volatile __u64 *)((char *)a + 4) = 0;
	bpf_obj_drop(a);
	return 0;
}
