/* The element bpf_list_back gives is the list's: past the unlock the program may not read it. */
#include "graph_walk.h"

SEC("tc")
int graph_list_front_after_unlock(struct __sk_buff *skb)
{
	struct bpf_list_node *n;

	bpf_spin_lock(&glock);
	n = bpf_list_back(&ghead);
	bpf_spin_unlock(&glock);
	if (!n)
		return 0;
	return container_of(n, struct elem, node2)->data;
}
