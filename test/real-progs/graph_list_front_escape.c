/* The element bpf_list_front gives, kept on the stack across the unlock, dies with the lock. */
#include "graph_walk.h"

SEC("tc")
int graph_list_front_escape(struct __sk_buff *skb)
{
	struct bpf_list_node *volatile kept = NULL;
	struct bpf_list_node *n;

	bpf_spin_lock(&glock);
	kept = bpf_list_front(&ghead);
	bpf_spin_unlock(&glock);
	n = kept;
	if (!n)
		return 0;
	return container_of(n, struct elem, node2)->data;
}
