/* The lock held must be the one of the list head's own value: glock2 guards nothing of ghead's. */
#include "graph.h"

SEC("tc")
int graph_list_wrong_lock(struct __sk_buff *skb)
{
	struct bpf_list_node *n;

	bpf_spin_lock(&glock2);
	n = bpf_list_pop_front(&ghead);
	bpf_spin_unlock(&glock2);
	if (n)
		bpf_obj_drop(container_of(n, struct elem, node2));
	return 0;
}
