/* After a push the element is the list's, yet the program may still write it while the lock is held. */
#include "graph.h"

SEC("tc")
int graph_list_nonown_write(struct __sk_buff *skb)
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
	e->data = 42;
	bpf_spin_unlock(&v->lock);
	return 0;
}
