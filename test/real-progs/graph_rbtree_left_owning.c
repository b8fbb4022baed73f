/* bpf_rbtree_left takes an owning node too (one bpf_obj_new gave, in no tree: NULL at run time);
 * the program still owns it and drops it. */
#include "graph_walk.h"

SEC("tc")
int graph_rbtree_left_owning(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);
	struct bpf_rb_node *n;
	int ret = 0;

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	n = bpf_rbtree_left(&troot, &t->node);
	if (n)
		ret = container_of(n, struct tree_item, node)->key;
	bpf_spin_unlock(&tlock);
	bpf_obj_drop(t);
	return ret;
}
