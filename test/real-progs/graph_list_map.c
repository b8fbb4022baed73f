/* A list in a map value: push an element, pop it back, drop it, all under the value's lock. */
#include "graph.h"

SEC("tc")
int graph_list_map(struct __sk_buff *skb)
{
	struct lists *v = lists_value();
	struct bpf_list_node *n;
	struct elem *e;

	if (!v)
		return 0;
	e = bpf_obj_new(struct elem);
	if (!e)
		return 0;
	e->data = skb->len;
	bpf_spin_lock(&v->lock);
	bpf_list_push_front(&v->head, &e->node2);
	n = bpf_list_pop_back(&v->head);
	bpf_spin_unlock(&v->lock);
	if (!n)
		return 0;
	e = container_of(n, struct elem, node2);
	bpf_obj_drop(e);
	return 1;
}
