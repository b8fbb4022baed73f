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

RBTREE_ADD_PROG(graph_rbtree_first_in_less, less_first)
