/* A kptr to a program-local struct no field marks as the program's (the kernel has no struct
 * point: btf_parse_kptr takes it for a bpf_obj_new type): stash a new object, free the old one. */
#include "kptr_obj.h"

SEC("tc")
int kptr_local_plain(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct plain_stash *s = bpf_map_lookup_elem(&plain_stashes, &key);
	struct point *p, *old;

	if (!s)
		return 0;
	p = bpf_obj_new(struct point);
	if (!p)
		return 0;
	p->y = skb->len;
	old = bpf_kptr_xchg(&s->p, p);
	if (old)
		bpf_obj_drop(old);
	return 0;
}
