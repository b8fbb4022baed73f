/* While the lock is held only the list kfuncs may be called: bpf_obj_drop waits for the unlock. */
#include "graph.h"

SEC("tc")
int graph_list_drop_under_lock(struct __sk_buff *skb)
{
	struct bpf_list_node *n;

	bpf_spin_lock(&glock);
	n = bpf_list_pop_front(&ghead);
	if (n)
		bpf_obj_drop(container_of(n, struct elem, node2));
	bpf_spin_unlock(&glock);
	return 0;
}
