/* bpf_list_front returns NULL for an empty list: the element is read without the check. */
#include "graph_walk.h"

SEC("tc")
int graph_list_front_unchecked(struct __sk_buff *skb)
{
	struct bpf_list_node *n;
	int ret;

	bpf_spin_lock(&glock);
	n = bpf_list_front(&ghead);
	ret = container_of(n, struct elem, node2)->data;
	bpf_spin_unlock(&glock);
	return ret;
}
