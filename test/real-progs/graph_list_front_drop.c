/* A non-owning element is not an owning one: bpf_obj_drop refuses it. */
#include "graph_walk.h"

SEC("tc")
int graph_list_front_drop(struct __sk_buff *skb)
{
	struct bpf_list_node *n;

	bpf_spin_lock(&glock);
	n = bpf_list_front(&ghead);
	bpf_spin_unlock(&glock);
	if (n)
		bpf_obj_drop(container_of(n, struct elem, node2));
	return 0;
}
