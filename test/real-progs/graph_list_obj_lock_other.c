/* An object's list needs that object's lock, not a map value's. */
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
int graph_list_obj_lock_other(struct __sk_buff *skb)
{
	struct lists *v = lists_value();
	struct bag *e;
	struct leaf *l;

	if (!v)
		return 0;
	e = bpf_obj_new(struct bag);
	if (!e)
		return 0;
	l = bpf_obj_new(struct leaf);
	if (!l) {
		bpf_obj_drop(e);
		return 0;
	}
	bpf_spin_lock(&v->lock);
	bpf_list_push_back(&e->items, &l->node);
	bpf_spin_unlock(&v->lock);
	bpf_obj_drop(e);
	return 0;
}
