/* A popped element is the program's again: it must be dropped or pushed before the program ends. */
#include "graph.h"

SEC("tc")
int graph_list_pop_leak(struct __sk_buff *skb)
{
	struct bpf_list_node *n;

	bpf_spin_lock(&glock);
	n = bpf_list_pop_front(&ghead);
	bpf_spin_unlock(&glock);
	return n ? 1 : 0;
}
