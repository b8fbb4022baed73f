/* After the first push the element is the list's: pushing it again is refused. */
#include "graph.h"

SEC("tc")
int graph_list_push_twice(struct __sk_buff *skb)
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
	bpf_list_push_front(&v->head, &e->node2);
	bpf_spin_unlock(&v->lock);
	return 0;
}
