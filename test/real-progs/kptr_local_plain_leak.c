/* What bpf_kptr_xchg takes out of a local kptr is a reference to release. */
#include "kptr_obj.h"

SEC("tc")
int kptr_local_plain_leak(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct plain_stash *s = bpf_map_lookup_elem(&plain_stashes, &key);
	struct point *p, *old;

	if (!s)
		return 0;
	p = bpf_obj_new(struct point);
	if (!p)
		return 0;
	old = bpf_kptr_xchg(&s->p, p);
	if (old)
		return old->y;
	return 0;
}
