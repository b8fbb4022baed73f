/* An object is no memory a helper writes into. */
#include "alloc.h"

SEC("tc")
int alloc_helper_mem(struct __sk_buff *skb)
{
	struct point *p = bpf_obj_new(struct point);

	if (!p)
		return 0;
	bpf_skb_load_bytes(skb, 0, p, 8);
	bpf_obj_drop(p);
	return 0;
}
