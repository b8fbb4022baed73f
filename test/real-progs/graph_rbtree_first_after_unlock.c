/* The node bpf_rbtree_first gives is the tree's: past the unlock the program may not read it. */
#include "graph_rbtree.h"

SEC("tc")
int graph_rbtree_first_after_unlock(struct __sk_buff *skb)
{
	struct bpf_rb_node *n;

	bpf_spin_lock(&tlock);
	n = bpf_rbtree_first(&troot);
	bpf_spin_unlock(&tlock);
	if (!n)
		return 0;
	return container_of(n, struct tree_item, node)->key;
}
