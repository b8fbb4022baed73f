/* The less callback runs under the tree's lock, which it may not release. */
#include "graph_rbtree.h"

static _Bool unlocking_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bpf_spin_unlock(&tlock);
	return 0;
}

SEC("tc")
int graph_rbtree_less_unlock(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, unlocking_less);
	bpf_spin_unlock(&tlock);
	return 0;
}
