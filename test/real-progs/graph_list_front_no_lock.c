/* bpf_list_front wants the list's lock held. */
#include "graph_walk.h"

SEC("tc")
int graph_list_front_no_lock(struct __sk_buff *skb)
{
	struct bpf_list_node *n = bpf_list_front(&ghead);

	return n ? 1 : 0;
}
