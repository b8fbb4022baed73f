/* bpf_rbtree_remove takes a node the tree holds (non-owning), not one the program owns. */
#include "graph_rbtree.h"

SEC("tc")
int graph_rbtree_remove_owning(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);
	struct bpf_rb_node *n;

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	n = bpf_rbtree_remove(&troot, &t->node);
	bpf_spin_unlock(&tlock);
	if (n)
		bpf_obj_drop(container_of(n, struct tree_item, node));
	bpf_obj_drop(t);
	return 0;
}
