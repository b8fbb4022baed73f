/* Inside bpf_rbtree_add's less callback the tree may not lose a node. */
#include "graph_walk.h"

static _Bool less_remove(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *n = bpf_rbtree_remove(&troot, a);

	if (n)
		bpf_obj_drop(container_of(n, struct tree_item, node));
	return 0;
}

RBTREE_ADD_PROG(graph_rbtree_remove_in_less, less_remove)
