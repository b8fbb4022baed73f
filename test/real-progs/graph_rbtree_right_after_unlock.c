/* A node the tree keeps, kept past the unlock, is no node bpf_rbtree_right can take. */
#include "graph_walk.h"

SEC("tc")
int graph_rbtree_right_after_unlock(struct __sk_buff *skb)
{
	struct bpf_rb_node *n;
	int ret = 0;

	bpf_spin_lock(&tlock);
	n = bpf_rbtree_root(&troot);
	bpf_spin_unlock(&tlock);
	if (!n)
		return 0;
	bpf_spin_lock(&tlock);
	n = bpf_rbtree_right(&troot, n);
	if (n)
		ret = container_of(n, struct tree_item, node)->key;
	bpf_spin_unlock(&tlock);
	return ret;
}
