/* Inside bpf_rbtree_add's less callback, under the lock the caller holds: bpf_rbtree_first and
 * bpf_rbtree_root on the same tree. */
#include "graph_walk.h"

static _Bool less_first(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *f = bpf_rbtree_first(&troot);
	struct bpf_rb_node *r = bpf_rbtree_root(&troot);

	if (!f || !r)
		return 0;
	return container_of(f, struct tree_item, node)->key < container_of(r, struct tree_item, node)->key;
}

SEC("tc")
int graph_rbtree_first_in_less(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, less_first);
	bpf_spin_unlock(&tlock);
	return 0;
}
