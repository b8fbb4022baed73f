/* An rbtree in global data: add with a less callback, then take the first node out and drop it. */
#include "graph_rbtree.h"

SEC("tc")
int graph_rbtree_add(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);
	struct bpf_rb_node *n;

	if (!t)
		return 0;
	t->key = skb->len;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, tree_less);
	n = bpf_rbtree_first(&troot);
	if (n)
		n = bpf_rbtree_remove(&troot, n);
	bpf_spin_unlock(&tlock);
	if (n)
		bpf_obj_drop(container_of(n, struct tree_item, node));
	return 0;
}
