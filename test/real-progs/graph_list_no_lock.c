/* A list operation needs the lock beside the list head held. */
#include "graph.h"

SEC("tc")
int graph_list_no_lock(struct __sk_buff *skb)
{
	struct lists *v = lists_value();
	struct elem *e;

	if (!v)
		return 0;
	e = bpf_obj_new(struct elem);
	if (!e)
		return 0;
	bpf_list_push_back(&v->head, &e->node2);
	return 0;
}
