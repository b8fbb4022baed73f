/* Inside bpf_rbtree_add's less callback the tree may not be walked with bpf_rbtree_left. */
#include "graph_walk.h"

static _Bool less_walk(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *l = bpf_rbtree_left(&troot, a);

	return l != NULL;
}

SEC("tc")
int graph_rbtree_left_in_less(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, less_walk);
	bpf_spin_unlock(&tlock);
	return 0;
}
