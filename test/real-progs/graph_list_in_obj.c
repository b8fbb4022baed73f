/* A list inside an allocated object, guarded by that object's own lock. */
#include "graph.h"

/* an object holding a list of its own, guarded by its own lock */
struct leaf {
	struct bpf_list_node node;
	__u64 data;
};

struct bag {
	struct bpf_spin_lock lock;
	struct bpf_list_head items __contains(leaf, node);
};

SEC("tc")
int graph_list_in_obj(struct __sk_buff *skb)
{
	struct bag *e = bpf_obj_new(struct bag);
	struct bpf_list_node *n;
	struct leaf *l;

	if (!e)
		return 0;
	l = bpf_obj_new(struct leaf);
	if (!l) {
		bpf_obj_drop(e);
		return 0;
	}
	l->data = 7;
	bpf_spin_lock(&e->lock);
	bpf_list_push_back(&e->items, &l->node);
	n = bpf_list_pop_front(&e->items);
	bpf_spin_unlock(&e->lock);
	if (n)
		bpf_obj_drop(container_of(n, struct leaf, node));
	bpf_obj_drop(e);
	return 0;
}
