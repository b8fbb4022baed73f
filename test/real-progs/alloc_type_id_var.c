/* bpf_obj_new's type id must be a known constant. */
#include "alloc.h"

SEC("tc")
int alloc_type_id_var(struct __sk_buff *skb)
{
	void *p = bpf_obj_new_impl(skb->len, NULL);

	if (p)
		bpf_obj_drop(p);
	return 0;
}
