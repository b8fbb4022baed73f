/* Inside bpf_rbtree_add's less callback: an object allocated and dropped again. */
#include "graph_walk.h"

static _Bool less_new(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (t)
		bpf_obj_drop(t);
	return 0;
}

SEC("tc")
int graph_rbtree_new_in_less(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, less_new);
	bpf_spin_unlock(&tlock);
	return 0;
}
