/* The head holds elems through node2 (its __contains): another node member of the elem is refused. */
#include "graph.h"

SEC("tc")
int graph_list_wrong_node(struct __sk_buff *skb)
{
	struct lists *v = lists_value();
	struct elem *e;

	if (!v)
		return 0;
	e = bpf_obj_new(struct elem);
	if (!e)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&v->head, &e->node);
	bpf_spin_unlock(&v->lock);
	return 0;
}
