/* bpf_obj_drop frees only what bpf_obj_new allocated. */
#include "alloc.h"

SEC("tc")
int alloc_drop_map_value(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct stash *s = bpf_map_lookup_elem(&stashes, &key);

	if (!s)
		return 0;
	bpf_obj_drop(s);
	return 0;
}
