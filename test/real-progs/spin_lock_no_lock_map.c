/* bpf_spin_lock on a value whose type has no lock. Linux rejects it. */
#include "spin_lock.h"

SEC("tc")
int spin_lock_no_lock_map(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&plain, &key);

	if (!v)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)v);
	*v += 1;
	bpf_spin_unlock((struct bpf_spin_lock *)v);
	return 0;
}
