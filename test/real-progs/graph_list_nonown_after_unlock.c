/* The element pushed is the list's: past the unlock the pointer is no longer the program's to use. */
#include "graph.h"

SEC("tc")
int graph_list_nonown_after_unlock(struct __sk_buff *skb)
{
	struct lists *v = lists_value();
	struct elem *e;

	if (!v)
		return 0;
	e = bpf_obj_new(struct elem);
	if (!e)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&v->head, &e->node2);
	bpf_spin_unlock(&v->lock);
	return e->data;
}
