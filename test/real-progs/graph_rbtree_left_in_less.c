/* Inside bpf_rbtree_add's less callback the tree may not be walked with bpf_rbtree_left. */
#include "graph_walk.h"

static _Bool less_walk(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *l = bpf_rbtree_left(&troot, a);

	return l != NULL;
}

RBTREE_ADD_PROG(graph_rbtree_left_in_less, less_walk)
