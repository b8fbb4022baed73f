/* A list in global data, guarded by the lock in the same section: the popped element is the program's. */
#include "graph.h"

SEC("tc")
int graph_list_global(struct __sk_buff *skb)
{
	struct bpf_list_node *n;
	struct elem *e = bpf_obj_new(struct elem);
	__u32 data;

	if (!e)
		return 0;
	bpf_spin_lock(&glock);
	bpf_list_push_back(&ghead, &e->node2);
	bpf_spin_unlock(&glock);
	bpf_spin_lock(&glock);
	n = bpf_list_pop_front(&ghead);
	bpf_spin_unlock(&glock);
	if (!n)
		return 0;
	e = container_of(n, struct elem, node2);
	data = e->data;
	bpf_obj_drop(e);
	return data;
}
