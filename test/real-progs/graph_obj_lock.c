/* A lock inside an allocated object, taken and released through the object's pointer. */
#include "graph.h"

SEC("tc")
int graph_obj_lock(struct __sk_buff *skb)
{
	struct elem *e = bpf_obj_new(struct elem);

	if (!e)
		return 0;
	bpf_spin_lock(&e->lock);
	e->data++;
	bpf_spin_unlock(&e->lock);
	bpf_obj_drop(e);
	return 0;
}
