/* A value holding a lock passed whole to bpf_map_update_elem (the helper
 * reads the lock's bytes too). */
#include "spin_lock.h"

SEC("tc")
int spin_lock_update_value(struct __sk_buff *skb)
{
	__u32 key = 0, other = 1;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	if (!v)
		return 0;
	return bpf_map_update_elem(&counters, &other, v, BPF_ANY);
}
