/* bpf_rbtree_root's node may be NULL: passed to bpf_rbtree_left without the check. */
#include "graph_walk.h"

SEC("tc")
int graph_rbtree_left_unchecked(struct __sk_buff *skb)
{
	struct bpf_rb_node *n;
	int ret = 0;

	bpf_spin_lock(&tlock);
	n = bpf_rbtree_root(&troot);
	n = bpf_rbtree_left(&troot, n);
	if (n)
		ret = container_of(n, struct tree_item, node)->key;
	bpf_spin_unlock(&tlock);
	return ret;
}
