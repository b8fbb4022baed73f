/* bpf_list_front and bpf_list_back peek at the ends of a list under its lock: NULL-checked, the
 * element they give is read and written in place (a non-owning reference). */
#include "graph_walk.h"

SEC("tc")
int graph_list_front(struct __sk_buff *skb)
{
	struct elem *e = bpf_obj_new(struct elem);
	struct bpf_list_node *n;
	int ret = 0;

	if (!e)
		return 0;
	e->data = skb->len;
	bpf_spin_lock(&glock);
	bpf_list_push_back(&ghead, &e->node2);
	n = bpf_list_front(&ghead);
	if (n) {
		container_of(n, struct elem, node2)->data++;
		ret = container_of(n, struct elem, node2)->data;
	}
	n = bpf_list_back(&ghead);
	if (n)
		ret += container_of(n, struct elem, node2)->data;
	bpf_spin_unlock(&glock);
	return ret;
}
