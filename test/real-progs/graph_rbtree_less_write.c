/* The less callback's nodes are the tree's: it may read and write their fields. */
#include "graph_rbtree.h"

static _Bool counting_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct tree_item *x = container_of(a, struct tree_item, node);

	x->key++;
	return x->key < container_of(b, struct tree_item, node)->key;
}

SEC("tc")
int graph_rbtree_less_write(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, counting_less);
	bpf_spin_unlock(&tlock);
	return 0;
}
