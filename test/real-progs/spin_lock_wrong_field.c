/* bpf_spin_lock on another field of the value. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_wrong_field(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&v->packets);
	v->bytes++;
	bpf_spin_unlock((struct bpf_spin_lock *)&v->packets);
	return 0;
}
