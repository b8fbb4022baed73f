/* The element's address stored into a map value (root may leak pointers): what was stored is a
 * number, not a reference to the element. */
#include "graph_walk.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} addrs SEC(".maps");

SEC("tc")
int graph_list_front_store(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&addrs, &key);
	struct bpf_list_node *n;

	if (!v)
		return 0;
	bpf_spin_lock(&glock);
	n = bpf_list_front(&ghead);
	if (n)
		*v = (__u64)n;
	bpf_spin_unlock(&glock);
	return 0;
}
