/* Inside bpf_rbtree_add's less callback the tree may not lose a node. */
#include "graph_walk.h"

static _Bool less_remove(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *n = bpf_rbtree_remove(&troot, a);

	if (n)
		bpf_obj_drop(container_of(n, struct tree_item, node));
	return 0;
}

SEC("tc")
int graph_rbtree_remove_in_less(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, less_remove);
	bpf_spin_unlock(&tlock);
	return 0;
}
